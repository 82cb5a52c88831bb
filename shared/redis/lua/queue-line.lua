-- One tick of a process's line snapshot (shared/queue/line-snapshot.ts): the heartbeats of the waiters it
-- served since the last tick, the admission step, then the frontier and the waiting sequence numbers.
-- ARGV 6: afterSeq (tail starts above it), 7: cap, 8...: users who polled (only WAITING and PRE users are
-- in `seen`, so XX leaves everyone else out; GT never moves a later heartbeat back).
-- Returns {waiting, pre-registered, active, admitted total, rate count, rate window ms, maxActive,
-- admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused 1|0, opensAt|-1, epoch|'', head seq|0,
-- tail count, tail seqs..., admitted...}.
for i = 8, #ARGV, 500 do
  local args = {}
  for j = i, math.min(i + 499, #ARGV) do
    args[#args + 1] = ARGV[1]
    args[#args + 1] = ARGV[j]
  end
  redis.call('ZADD', KEYS[3], 'XX', 'GT', unpack(args))
end

--#include queue-admit-step

local count, windowMs = rate()
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local tail = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[6], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[7]),
  'WITHSCORES')
local reply = {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[2]),
  tonumber(redis.call('HGET', KEYS[7], 'total')) or 0, count, windowMs, maxActive, admitPerSecond,
  activeTtl, idleTimeout, paused and 1 or 0, opensAt or -1, redis.call('GET', KEYS[8]) or '',
  first[2] or 0, #tail / 2}
for i = 2, #tail, 2 do reply[#reply + 1] = tail[i] end
for i = 1, #admitted do reply[#reply + 1] = admitted[i] end
return reply
