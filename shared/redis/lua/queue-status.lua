-- Where a user stands in a concert's line; counts as a poll for the idle timeout. Runs the admission
-- step first (admission is lazy as well as periodic). ARGV 6: user id.
-- Returns {state 0 none|1 waiting|2 active|3 pre, position, activeUntil, seq, rate count, rate window ms,
-- maxActive, admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused 1|0, opensAt|-1, epoch ('' when
-- the line has none), admitted...}.
--#include queue-admit-step

local user = ARGV[6]
local state, position, activeUntil, seq = 0, 0, 0, 0
local untilScore = redis.call('ZSCORE', KEYS[2], user)
if untilScore then
  state, activeUntil = 2, tonumber(untilScore)
else
  local seqScore = redis.call('ZSCORE', KEYS[1], user)
  if seqScore then
    redis.call('ZADD', KEYS[3], now, user)
    state, position, seq = 1, redis.call('ZRANK', KEYS[1], user) + 1, tonumber(seqScore)
  elseif redis.call('ZSCORE', KEYS[5], user) then
    redis.call('ZADD', KEYS[3], now, user)
    state, position = 3, redis.call('ZCARD', KEYS[5])
  end
end

local count, windowMs = rate()
local reply = {state, position, activeUntil, seq, count, windowMs, maxActive, admitPerSecond, activeTtl,
  idleTimeout, paused and 1 or 0, opensAt or -1, redis.call('GET', KEYS[8]) or ''}
for i = 1, #admitted do reply[#reply + 1] = admitted[i] end
return reply
