-- Joins a concert's waiting line, or returns the place already held: one place per user whatever the
-- number of tabs. Runs the admission step first, so a newcomer is admitted at once only when nobody
-- waits ahead and a slot is free. ARGV 6: user id, 7: random sort key (used only before opensAt),
-- 8: an incarnation id and 9: recoverUntil ms, used only to start a line that has none ('' and '': return
-- {-1} instead, so the caller can ask the database whether the line had been started before).
-- Returns {state 0 none|1 waiting|2 active|3 pre, position, activeUntil, seq, rate count, rate window ms,
-- maxActive, admitPerSecond, activeTtlSeconds, idleTimeoutSeconds, paused 1|0, opensAt|-1, epoch,
-- admitted...}.
local epoch = redis.call('GET', KEYS[8])
if not epoch then
  if ARGV[9] == '' then return {-1} end
  epoch = ARGV[8]
  redis.call('SET', KEYS[8], epoch)
  if tonumber(ARGV[9]) > tonumber(ARGV[1]) then redis.call('HSET', KEYS[7], 'recoverUntil', ARGV[9]) end
end
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
  -- A newcomer's answer is known without looking again: the counter is above every number in the line
  -- (restores raise it), so the place just taken is the last one.
  if not opened then
    redis.call('ZADD', KEYS[5], ARGV[7], user)
    redis.call('ZADD', KEYS[3], now, user)
    state, position = 3, redis.call('ZCARD', KEYS[5])
  else
    local waitingCount = redis.call('ZCARD', KEYS[1])
    if not paused and not recovering and waitingCount == 0 and redis.call('ZCARD', KEYS[2]) < maxActive then
      -- Admitted at once, yet numbered: the queue token carries a place to restore after a loss.
      seq = takeSeq(1)
      activeUntil = now + activeTtl * 1000
      redis.call('ZADD', KEYS[2], activeUntil, user)
      redis.call('HINCRBY', KEYS[7], 'total', 1)
      admitted[#admitted + 1] = user
      journal(user)
      state = 2
    else
      seq = takeSeq(1)
      redis.call('ZADD', KEYS[1], seq, user)
      redis.call('ZADD', KEYS[3], now, user)
      state, position = 1, waitingCount + 1
    end
  end
end

local count, windowMs = rate()
local reply = {state, position, activeUntil, seq, count, windowMs, maxActive, admitPerSecond, activeTtl,
  idleTimeout, paused and 1 or 0, opensAt or -1, epoch}
for i = 1, #admitted do reply[#reply + 1] = admitted[i] end
return reply
