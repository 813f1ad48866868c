// Proves that a JavaScript client keeps 64-bit ids exact (the `typescript` gate of
// `cargo xtask lint`): node bigint_roundtrip.mjs COMPILED-CLIENT.js SUPERVISOR-DOCUMENT.json
//
// A loopback server answers get_activities with node ids above 2^53; the client compiled from
// bigint_client.ts reads them and sends them back in create_activity. Both ends compare digits.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [client, document] = process.argv.slice(2);
const { restartLoggedNodes } = await import(pathToFileURL(path.resolve(client)).href);
// Only the schemas are used from here, so JSON.parse's rounding of the examples does not matter.
const doc = JSON.parse(fs.readFileSync(document, "utf8"));

const NODE = "7261845022003200001";
const OTHER_NODE = "610809900976570889";
const DEPLOYMENT = "7261845022003200777";
const entry = (id, node) =>
  `{"id":${id},"tenant_id":1042,"node_id":${node},"runtime":"iggy","action":"restart","status":"completed"}`;
const page = `{"items":[${entry(41208, NODE)},${entry(41209, OTHER_NODE)}],"page":1,"total_results":2,"total_pages":1}`;

const received = [];
const server = http.createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    received.push({ method: request.method, url: request.url, body });
    if (request.method === "GET" && request.url === `/deployments/${DEPLOYMENT}/activities`) {
      response.writeHead(200, { "content-type": "application/json" }).end(page);
    } else if (request.method === "POST" && request.url === `/deployments/${DEPLOYMENT}/activities/iggy/restart`) {
      response.writeHead(202, { "content-type": "application/json" }).end("{}");
    } else {
      response.writeHead(404).end();
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
try {
  const base = `http://127.0.0.1:${server.address().port}`;
  const { page: decoded, sent } = await restartLoggedNodes(base, doc, BigInt(DEPLOYMENT));
  const first = decoded.items[0];
  assert.equal(typeof first.node_id, "bigint");
  assert.equal(first.node_id, BigInt(NODE));
  assert.equal(decoded.items[1].node_id, BigInt(OTHER_NODE));
  assert.equal(first.id, 41208n, "every int64 is a bigint, small ones too");
  assert.equal(decoded.page, 1n);
  assert.deepEqual(received.map((request) => `${request.method} ${request.url}`), [
    `GET /deployments/${DEPLOYMENT}/activities`,
    `POST /deployments/${DEPLOYMENT}/activities/iggy/restart`,
  ]);
  assert.equal(received[1].body, `{"nodes":[${NODE},${OTHER_NODE}]}`);
  assert.equal(sent, received[1].body);
  // Why this is needed: JSON.parse turns the same answer's ids into the nearest double.
  assert.notEqual(String(JSON.parse(page).items[0].node_id), NODE);
  console.log(`JavaScript client: ${NODE} and ${OTHER_NODE} read as bigint and sent back digit for digit`);
} finally {
  server.close();
}
