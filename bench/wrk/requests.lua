-- Replays requests the bench wrote to a file, counts answers by status and error code, and prints one
-- JSON line ("BENCH_JSON {...}") from done() for bench/lib/wrk.ts to parse.
--
--   wrk ... -s bench/wrk/requests.lua <url> -- <file> <start> <threads>
--
-- <start> is one number, or one per thread ("a,b,...", the "threadStarts" a run printed): each thread then
-- goes on exactly where it stopped, so consecutive runs neither skip nor repeat a line.
--
-- File (tab-separated, one per line):
--   U <header: value> ...                                   a user's headers (Authorization, X-Queue-Token)
--   R <method> <path> <user index> <body> <header: value>...   a request; user index counts U lines from 0
-- "{n}" in a body or header value becomes the request's global number (fresh Idempotency-Keys).
-- Thread t of T sends global numbers start+t, start+t+T, ...; number g is request g mod N, so a list
-- shorter than the run wraps around (reported as "repeated" so the bench can tell requests were repeated).
-- One shared next number (nextStart, the furthest thread's) would skip the lines a slower thread had not
-- reached yet: a following run continues from threadStarts instead.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local users, reqs, prebuilt = {}, {}, {}
local k = 0
statuses, codes, sent, wrapped, N, start, first, T = {}, {}, 0, 0, 0, 0, 0, 1

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local function headers_of(fields, from, into)
  for i = from, #fields do
    local name, value = fields[i]:match("^([^:]+):%s?(.*)$")
    if name then into[name] = value end
  end
  return into
end

local function build(r, g)
  local headers = {}
  for name, value in pairs(users[r.user] or {}) do headers[name] = value end
  for name, value in pairs(r.headers) do headers[name] = value end
  local body = r.body
  if r.template then
    local n = tostring(g)
    body = body and body:gsub("{n}", n)
    for name, value in pairs(headers) do headers[name] = value:gsub("{n}", n) end
  end
  return wrk.format(r.method, r.path, headers, body)
end

function init(args)
  local file = assert(args[1], "usage: -- <file> <start|a,b,...> <threads>")
  T = tonumber(args[3] or "1")
  local starts = {}
  for n in (args[2] or "0"):gmatch("%d+") do starts[#starts + 1] = tonumber(n) end
  start = starts[1] or 0
  -- One number: thread t starts at start+t. One per thread: each where it stopped.
  if #starts == T and #starts > 1 then first = starts[id + 1] else first = start + id end
  for line in io.lines(file) do
    local fields = split(line)
    if fields[1] == "U" then
      users[#users + 1] = headers_of(fields, 2, {})
    elseif fields[1] == "R" then
      local r = {
        method = fields[2],
        path = fields[3],
        user = tonumber(fields[4]) + 1,
        body = (fields[5] ~= "" and fields[5]) or nil,
        headers = headers_of(fields, 6, {}),
      }
      r.template = line:find("{n}", 1, true) ~= nil
      reqs[#reqs + 1] = r
    end
  end
  N = #reqs
  assert(N > 0, "no requests in " .. file)
  -- Build this thread's first pass now, so the run itself only sends.
  local g = first
  while g < N do
    local r = reqs[g + 1]
    if not r.template then prebuilt[g] = build(r, g) end
    g = g + T
  end
end

function request()
  local g = first + k * T
  k = k + 1
  sent = k
  local i = g % N
  if g >= N then wrapped = wrapped + 1 end
  local raw = prebuilt[i]
  if raw then return raw end
  local r = reqs[i + 1]
  raw = build(r, g)
  if not r.template then prebuilt[i] = raw end
  return raw
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and body then
    local code = body:match('"code":"([%u_]+)"')
    if code then codes[code] = (codes[code] or 0) + 1 end
  end
end

local function object(t)
  local parts = {}
  for key, value in pairs(t) do
    parts[#parts + 1] = string.format('"%s":%d', tostring(key), value)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_statuses, all_codes, next_start, repeats, size, issued_all = {}, {}, 0, 0, 0, 0
  local thread_starts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      all_statuses[status] = (all_statuses[status] or 0) + count
    end
    for code, count in pairs(thread:get("codes") or {}) do
      all_codes[code] = (all_codes[code] or 0) + count
    end
    local id, issued, from, threads_n = thread:get("id"), thread:get("sent"), thread:get("first"), thread:get("T")
    next_start = math.max(next_start, from + issued * threads_n)
    thread_starts[id + 1] = tostring(from + issued * threads_n)
    issued_all = issued_all + issued
    repeats = repeats + thread:get("wrapped")
    size = thread:get("N")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"durationUs":%d,"requests":%d,"bytes":%d,' ..
    '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":%s,"codes":%s,"nextStart":%d,"threadStarts":"%s","issued":%d,"repeated":%d,"listSize":%d}\n',
    summary.duration, summary.requests, summary.bytes,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout,
    object(all_statuses), object(all_codes), next_start, table.concat(thread_starts, ","), issued_all, repeats,
    size))
end
