-- The admission step alone, for the periodic trigger and the admin view, with the line's counts.
-- Returns {waiting, pre-registered, active, admitted total, rate count, rate window ms, maxActive,
-- admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused 1|0, opensAt|-1, epoch|'', admitted...}.
--#include queue-admit-step

local count, windowMs = rate()
local reply = {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[2]),
  tonumber(redis.call('HGET', KEYS[7], 'total')) or 0, count, windowMs, maxActive, admitPerSecond,
  activeTtl, idleTimeout, paused and 1 or 0, opensAt or -1, redis.call('GET', KEYS[8]) or ''}
for i = 1, #admitted do reply[#reply + 1] = admitted[i] end
return reply
