-- wrk script for bench/run.py: POST one GraphQL body, optionally with a fixed Authorization header
-- or with one pre-signed Authorization header per request (each line of BENCH_AUTH_FILE used once);
-- with BENCH_METHOD=GET, GET BENCH_PATH (the document in the query string) with no body instead.
-- With BENCH_CHECK_BODY=1, 200 responses whose body holds "errors" are counted.
-- done() prints one line: BENCH_RESULT {json}.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  local method = os.getenv("BENCH_METHOD") or "POST"
  if method == "" then
    method = "POST"
  end
  local path = os.getenv("BENCH_PATH")
  if path == nil or path == "" then
    path = wrk.path
  end
  local body = nil
  local headers = {}
  if method == "POST" then
    body = read_file(os.getenv("BENCH_BODY_FILE"))
    headers["Content-Type"] = "application/json"
  end
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization and authorization ~= "" then
    headers["Authorization"] = authorization
  end
  used = 0
  wrapped = 0
  graphql_errors = 0
  local auth_file = os.getenv("BENCH_AUTH_FILE")
  if auth_file and auth_file ~= "" then
    prepared = {}
    for line in io.lines(auth_file) do
      if line ~= "" then
        headers["Authorization"] = line
        prepared[#prepared + 1] = wrk.format(method, path, headers, body)
      end
    end
    count = #prepared
  else
    fixed = wrk.format(method, path, headers, body)
  end
end

function request()
  if prepared then
    used = used + 1
    local i = used % count
    if i == 0 then
      i = count
    end
    if used > count and i == 1 then
      wrapped = wrapped + 1
    end
    return prepared[i]
  end
  return fixed
end

if os.getenv("BENCH_CHECK_BODY") == "1" then
  function response(status, headers, body)
    if status == 200 and body and string.find(body, '"errors"', 1, true) then
      graphql_errors = graphql_errors + 1
    end
  end
end

function done(summary, latency, requests)
  local total_used, total_wrapped, total_graphql_errors = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_used = total_used + (thread:get("used") or 0)
    total_wrapped = total_wrapped + (thread:get("wrapped") or 0)
    total_graphql_errors = total_graphql_errors + (thread:get("graphql_errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"status_errors": %d, "timeouts": %d, "graphql_errors": %d, "signed_headers_used": %d, '
      .. '"signed_headers_wrapped": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout,
    total_graphql_errors, total_used, total_wrapped))
end
