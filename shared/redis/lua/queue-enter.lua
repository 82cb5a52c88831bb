-- Joins a concert's waiting line, or returns the place already held: one place per user whatever the
-- number of tabs. Runs the admission step first, so a newcomer is admitted at once only when nobody
-- waits ahead and a slot is free. ARGV 6: user id, 7: random sort key (used only before opensAt).
-- Returns {state 0 none|1 waiting|2 active|3 pre, position, activeUntil, seq, rate count, rate window ms,
-- maxActive, admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused 1|0, opensAt|-1, admitted...}.
--#include queue-admit-step

local user = ARGV[6]
local function view()
  local activeUntil = redis.call('ZSCORE', KEYS[2], user)
  if activeUntil then return 2, 0, tonumber(activeUntil), 0 end
  local seq = redis.call('ZSCORE', KEYS[1], user)
  if seq then
    redis.call('ZADD', KEYS[3], now, user)
    return 1, redis.call('ZRANK', KEYS[1], user) + 1, 0, tonumber(seq)
  end
  if redis.call('ZSCORE', KEYS[5], user) then
    redis.call('ZADD', KEYS[3], now, user)
    return 3, redis.call('ZCARD', KEYS[5]), 0, 0
  end
  return 0, 0, 0, 0
end

local state, position, activeUntil, seq = view()
if state == 0 then
  if not opened then
    redis.call('ZADD', KEYS[5], ARGV[7], user)
    redis.call('ZADD', KEYS[3], now, user)
  elseif not paused and redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) < maxActive then
    redis.call('ZADD', KEYS[2], now + activeTtl * 1000, user)
    redis.call('HINCRBY', KEYS[7], 'total', 1)
    admitted[#admitted + 1] = user
  else
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[4]), user)
    redis.call('ZADD', KEYS[3], now, user)
  end
  state, position, activeUntil, seq = view()
end

local count, windowMs = rate()
local reply = {state, position, activeUntil, seq, count, windowMs, maxActive, admitPerSecond, activeTtl,
  idleTimeout, paused and 1 or 0, opensAt or -1}
for i = 1, #admitted do reply[#reply + 1] = admitted[i] end
return reply
