/**
 * nginx configurations for the benchmark, written into a temporary prefix directory.
 *
 * - {@linkcode proxyConfig}: the `nginx` target, a reverse proxy in front of the upstream
 *   (1 worker, upstream keepalive, HTTP/1.1 to the upstream, no response buffering).
 * - {@linkcode upstreamConfig}: the fake upstream when nginx has the echo module
 *   (`ngx_http_echo_module`): the same answers as bench/fake_upstream.ts at a fraction of the
 *   CPU, so it can share a core with wrk and still never be the bottleneck.
 */
import { completionJson, PACED_DELAY_MS, PACED_MODEL, streamEvents } from "./fixtures.ts";

/** Where Debian and Ubuntu install the echo module (package libnginx-mod-http-echo). */
export const ECHO_MODULE_PATHS: readonly string[] = [
  "/usr/lib/nginx/modules/ngx_http_echo_module.so",
  "/usr/share/nginx/modules/ngx_http_echo_module.so",
];

/** The echo module's path, if installed. */
export function findEchoModule(): string | undefined {
  return ECHO_MODULE_PATHS.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** A single-quoted nginx string; rejects `$`, which nginx would read as a variable. */
function quoted(text: string): string {
  if (text.includes("$")) throw new Error("nginx strings here must not contain $");
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\n", "\\n")}'`;
}

/** Settings shared by both configurations; `dir` holds pid, logs and temp files. */
function common(dir: string, modules: string): string {
  return `${modules}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
`;
}

/** The `nginx` target: listens on `port`, forwards to the upstream on `upstreamPort`. */
export function proxyConfig(dir: string, port: number, upstreamPort: number): string {
  return `${common(dir, "")}
  upstream fake_openai {
    server 127.0.0.1:${upstreamPort};
    keepalive 512;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://fake_openai;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

/** The echo directives of one stream: each event flushed on its own, `delayMs` apart. */
function echoEvents(events: readonly string[], delayMs: number): string {
  const sleep = delayMs > 0 ? `echo_sleep ${(delayMs / 1000).toFixed(3)}; ` : "";
  return events
    .map((event, index) => `${index > 0 ? sleep : ""}echo -n ${quoted(event)}; echo_flush;`)
    .join("\n      ");
}

/**
 * The fake upstream in nginx: the request body picks `/sse-paced`, `/sse` or `/json` (a `map`
 * on `$request_body`, read first by `echo_read_request_body`). Each stream event is flushed on
 * its own, `delayMs` apart; a streamed request for {@linkcode PACED_MODEL} gets the paced
 * stream instead (20 content events, {@linkcode PACED_DELAY_MS} ms apart).
 */
export function upstreamConfig(
  dir: string,
  port: number,
  echoModule: string,
  delayMs: number,
): string {
  return `${common(dir, `load_module ${echoModule};`)}
  client_body_buffer_size 64k;
  client_body_in_single_buffer on;
  map $request_body $fake_target {
    "~^(?=.*\\"stream\\"\\s*:\\s*true)(?=.*\\"${PACED_MODEL}\\")" /sse-paced;
    "~\\"stream\\"\\s*:\\s*true" /sse;
    default /json;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /health { return 200 'ok'; }
    location = /v1/chat/completions {
      echo_read_request_body;
      echo_exec $fake_target;
    }
    location = /json {
      internal;
      default_type application/json;
      add_header x-request-id req_fake;
      return 200 ${quoted(completionJson())};
    }
    location = /sse {
      internal;
      default_type "text/event-stream; charset=utf-8";
      add_header cache-control no-cache;
      add_header x-request-id req_fake;
      ${echoEvents(streamEvents(), delayMs)}
    }
    location = /sse-paced {
      internal;
      default_type "text/event-stream; charset=utf-8";
      add_header cache-control no-cache;
      add_header x-request-id req_fake;
      ${echoEvents(streamEvents(true), PACED_DELAY_MS)}
    }
  }
}
`;
}
