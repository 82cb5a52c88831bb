-- The admission step every queue script runs first (included by luaSource, see shared/redis/scripts.ts).
-- Mirrors createMemoryQueueStore's `step`.
-- KEYS: 1 waiting (ZSET user -> seq), 2 active (ZSET user -> activeUntil ms), 3 seen (ZSET user -> last
-- poll ms), 4 seq (counter), 5 pre (ZSET user -> random key, before opensAt), 6 settings (HASH), 7 stats
-- (HASH), 8 epoch (the line's incarnation id), 9 healed (SET of users whose place was restored in it),
-- 10 journal (STREAM of admissions not yet known to be in the outbox).
-- ARGV: 1 now ms, 2..5 default maxActive, admitPerSecond, activeTtlSeconds, idleTimeoutSeconds.
local now = tonumber(ARGV[1])
local conf = redis.call('HMGET', KEYS[6], 'maxActive', 'admitPerSecond', 'activeTtlSeconds',
  'idleTimeoutSeconds', 'paused', 'opensAt')
local maxActive = tonumber(conf[1]) or tonumber(ARGV[2])
local admitPerSecond = tonumber(conf[2]) or tonumber(ARGV[3])
local activeTtl = tonumber(conf[3]) or tonumber(ARGV[4])
local idleTimeout = tonumber(conf[4]) or tonumber(ARGV[5])
local paused = conf[5] == '1'
local opensAt = tonumber(conf[6])
local opened = opensAt == nil or now >= opensAt
local stats = redis.call('HMGET', KEYS[7], 'credit', 'creditAt', 'rb', 'rc', 'rp', 'recoverUntil')
-- After the line's data was lost, admissions wait for the old fans to come back (recoveryWindowMs).
local recovering = (tonumber(stats[6]) or 0) > now
local rb, rc, rp = tonumber(stats[3]), tonumber(stats[4]) or 0, tonumber(stats[5]) or 0
local admitted = {}

-- Every admission is journaled in the same script that makes it, so it survives a reply that never reaches
-- the caller (a Redis restart, or a client resending the script): the admit trigger writes what the journal
-- still holds after a grace period and deletes it (shared/queue/activation-journal.ts). The cap bounds
-- the stream if nothing drains it for long.
local function journal(user)
  redis.call('XADD', KEYS[10], 'MAXLEN', '~', 200000, '*', 'u', user, 't', now)
end

-- The next n sequence numbers: never below the clock times seqPerMs, so a lost counter restarts above
-- every number handed out before (queue-store.ts, seqPerMs).
local function takeSeq(n)
  local first = redis.call('INCRBY', KEYS[4], n) - n + 1
  local floor = now * 1000
  if first < floor then
    first = floor
    redis.call('SET', KEYS[4], first + n - 1)
  end
  return first
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)

local idle = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - idleTimeout * 1000, 'LIMIT', 0, 1000)
if #idle > 0 then
  redis.call('ZREM', KEYS[1], unpack(idle))
  redis.call('ZREM', KEYS[5], unpack(idle))
  redis.call('ZREM', KEYS[3], unpack(idle))
end

if opened and redis.call('EXISTS', KEYS[5]) == 1 then
  -- The opening: pre-registered users take the next sequence numbers in the order of their random keys.
  local pre = redis.call('ZRANGE', KEYS[5], 0, -1)
  local base = takeSeq(#pre) - 1
  for i = 1, #pre, 500 do
    local args = {}
    for j = i, math.min(i + 499, #pre) do
      args[#args + 1] = base + j
      args[#args + 1] = pre[j]
    end
    redis.call('ZADD', KEYS[1], unpack(args))
  end
  redis.call('DEL', KEYS[5])
end

if opened and not paused and not recovering then
  -- Budget in thousandths of a user: admitPerSecond accrues per second up to one second's worth.
  local cap = admitPerSecond * 1000
  local credit = tonumber(stats[1])
  local creditAt = tonumber(stats[2]) or now
  if credit == nil then
    credit = cap
    creditAt = now
  elseif now > creditAt then
    credit = credit + (now - creditAt) * admitPerSecond
  end
  if credit > cap then credit = cap end
  if now > creditAt then creditAt = now end
  local n = math.min(math.floor(credit / 1000), maxActive - redis.call('ZCARD', KEYS[2]), 1000)
  if n > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[1], n)
    for i = 1, #popped, 2 do admitted[#admitted + 1] = popped[i] end
  end
  local k = #admitted
  if k > 0 then
    local activeUntil = now + activeTtl * 1000
    local args = {}
    for i = 1, k do
      args[#args + 1] = activeUntil
      args[#args + 1] = admitted[i]
    end
    redis.call('ZADD', KEYS[2], unpack(args))
    redis.call('ZREM', KEYS[3], unpack(admitted))
    for i = 1, k do journal(admitted[i]) end
    credit = credit - k * 1000
    -- Admissions from the line per 10 s bucket (current and previous): the ETA's measured rate.
    local bucket = math.floor(now / 10000)
    if rb == nil or bucket > rb + 1 then
      rb, rc, rp = bucket, k, 0
    elseif bucket == rb + 1 then
      rb, rc, rp = bucket, k, rc
    else
      rc = rc + k
    end
    redis.call('HINCRBY', KEYS[7], 'total', k)
    redis.call('HSET', KEYS[7], 'rb', rb, 'rc', rc, 'rp', rp)
  end
  -- A full budget stays unwritten: polls of a saturated line then cost no write.
  if k > 0 or credit < cap then
    redis.call('HSET', KEYS[7], 'credit', credit, 'creditAt', creditAt)
  end
end

local function rate()
  local bucket = math.floor(now / 10000)
  local windowMs = 10000 + now - bucket * 10000
  if rb == nil or rb < bucket - 1 then return 0, windowMs end
  if rb == bucket - 1 then return rc, windowMs end
  return rp + rc, windowMs
end
