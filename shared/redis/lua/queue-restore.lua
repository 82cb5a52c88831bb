-- Puts back a user whose entry the line lost with its data (QueueStore.restore). Mirrors
-- createMemoryQueueStore's `restore`. KEYS as in queue-admit-step.lua. ARGV: 1 now ms, 2 user id, 3 kind
-- (place|access), 4 the token's epoch, 5 its seq (place) or activeUntil ms (access), 6 random sort key
-- (before opensAt), 7 an incarnation id and 8 recoverUntil ms to start a line that has none ('' and '':
-- return {-1} instead, as queue-enter.lua does). Returns {1 restored|0 not, epoch}.
local now = tonumber(ARGV[1])
local user = ARGV[2]
local epoch = redis.call('GET', KEYS[8])
if not epoch then
  if ARGV[8] == '' then return {-1} end
  epoch = ARGV[7]
  redis.call('SET', KEYS[8], epoch)
  if tonumber(ARGV[8]) > now then redis.call('HSET', KEYS[7], 'recoverUntil', ARGV[8]) end
end
-- A token of this incarnation lost its entry by the rules (idle, expiry, payment): nothing to restore.
if ARGV[4] == '' or ARGV[4] == epoch then return {0, epoch} end

if ARGV[3] == 'access' then
  local activeUntil = tonumber(ARGV[5])
  if activeUntil <= now then return {0, epoch} end
  redis.call('ZREM', KEYS[1], user)
  redis.call('ZREM', KEYS[5], user)
  redis.call('ZREM', KEYS[3], user)
  redis.call('ZADD', KEYS[2], 'GT', activeUntil, user)
  return {1, epoch}
end

if redis.call('SISMEMBER', KEYS[9], user) == 1 or redis.call('ZSCORE', KEYS[2], user) then
  return {0, epoch}
end
redis.call('SADD', KEYS[9], user)
local conf = redis.call('HMGET', KEYS[6], 'opensAt')
local opensAt = tonumber(conf[1])
if opensAt ~= nil and now < opensAt then
  if not redis.call('ZSCORE', KEYS[5], user) then redis.call('ZADD', KEYS[5], ARGV[6], user) end
else
  -- A place given before the opening has no number of its own: it goes where the opening put them.
  local seq = tonumber(ARGV[5])
  if seq <= 0 then seq = (opensAt or 0) * 1000 end
  local current = redis.call('ZSCORE', KEYS[1], user)
  if not current or tonumber(current) > seq then redis.call('ZADD', KEYS[1], seq, user) end
  redis.call('ZREM', KEYS[5], user)
  if (tonumber(redis.call('GET', KEYS[4])) or 0) < seq then redis.call('SET', KEYS[4], seq) end
end
redis.call('ZADD', KEYS[3], now, user)
return {1, epoch}
