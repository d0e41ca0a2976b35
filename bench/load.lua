-- wrk script for bench/run.py: signs and varies the requests of one target and counts
-- the answers by status.
--
--   wrk -t2 -c16 -d10s -s bench/load.lua http://127.0.0.1:PORT -- DATA_FILE THREADS
--
-- DATA_FILE (written by run.py) holds tab-separated lines:
--   kind      get | api-book | html-book
--   expect    200,201,409          statuses that count as served; any other is an error
--   header    Name  Value          sent with every request
--   account   credential  csrf     a signed-in account: a session cookie ("session=...")
--                                  for HTML, an access token for the API; csrf or "-"
--   path      /api/v1/doctors?...  get: each request takes one at random
--   slot      doctor_id  start  account
--                                  book: each request takes the next slot of its thread's
--                                  share (thread n of N takes slots n, n+N, ...), so every
--                                  booking asks for a distinct free slot, for the account
--                                  (1-based) that run.py chose so that no patient holds
--                                  two visits at the same time.
--
-- Every request carries "Connection: close": one request per connection, as gunicorn's
-- sync workers answer anyway, for the floor and the portal alike. done() prints one line
-- "BENCH-RESULT {json}" that run.py reads.

local kind, expect, headers = "get", {}, {}
local accounts, paths, slots = {}, {}, {}
local me, threads_total, position = 1, 1, 0
-- Per thread, read by done() in the main state (which never runs init(), so it has no
-- `expect` of its own): each thread sorts its answers into served and errors.
statuses = {}
served_count, error_count, wrapped_count = 0, 0, 0

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  return fields
end

local function load(file_name)
  for line in io.lines(file_name) do
    local f = split(line)
    if f[1] == "kind" then
      kind = f[2]
    elseif f[1] == "expect" then
      for status in string.gmatch(f[2], "%d+") do
        expect[tonumber(status)] = true
      end
    elseif f[1] == "header" then
      headers[f[2]] = f[3]
    elseif f[1] == "account" then
      accounts[#accounts + 1] = { credential = f[2], csrf = f[3] }
    elseif f[1] == "path" then
      paths[#paths + 1] = f[2]
    elseif f[1] == "slot" then
      slots[#slots + 1] = { doctor = f[2], start = f[3], account = tonumber(f[4]) }
    end
  end
end

local function urlencode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function copy(source)
  local result = {}
  for key, value in pairs(source) do
    result[key] = value
  end
  return result
end

-- Main state: number the threads and keep them, to add up their counts in done().
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

function init(args)
  load(args[1])
  threads_total = tonumber(args[2]) or 1
  me = tonumber(rawget(_G, "thread_id")) or 1
  position = me - 1
  math.randomseed(os.time() * 1000 + me)
  headers["Connection"] = "close"
end

local function next_slot()
  if position >= #slots then
    -- This thread's share is used up: start it again (those bookings answer 409).
    position = me - 1
    wrapped_count = wrapped_count + 1
  end
  local slot = slots[position + 1]
  position = position + threads_total
  return slot
end

function request()
  if kind == "get" then
    return wrk.format("GET", paths[math.random(#paths)], headers)
  end
  local slot = next_slot()
  local account = accounts[slot.account]
  local h = copy(headers)
  local body
  if kind == "api-book" then
    h["Authorization"] = "Bearer " .. account.credential
    h["Content-Type"] = "application/json"
    body = string.format(
      '{"doctor_id": %s, "start": "%s", "reason": "Benchmark"}', slot.doctor, slot.start
    )
    return wrk.format("POST", "/api/v1/appointments", h, body)
  end
  h["Cookie"] = account.credential
  h["Content-Type"] = "application/x-www-form-urlencoded"
  body = "start=" .. urlencode(slot.start) .. "&reason=Benchmark&csrf_token="
    .. urlencode(account.csrf)
  return wrk.format("POST", "/doctors/" .. slot.doctor .. "/book", h, body)
end

function response(status, _headers, _body)
  statuses[status] = (statuses[status] or 0) + 1
  if expect[status] then
    served_count = served_count + 1
  else
    error_count = error_count + 1
  end
end

function done(summary, latency, _requests)
  local counts, wraps, served, errors, parts = {}, 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + count
    end
    served = served + (thread:get("served_count") or 0)
    errors = errors + (thread:get("error_count") or 0)
    wraps = wraps + (thread:get("wrapped_count") or 0)
  end
  for status, count in pairs(counts) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    'BENCH-RESULT {"served": %d, "errors": %d, "responses": %d, "duration_us": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}, '
      .. '"failures": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"wrapped": %d}\n',
    served, errors + failed, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout, wraps
  ))
end
