// Runs a list of SQS calls with the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs) and prints one JSON
// document with each call's output or error. Driven by tests/integration/test_sqs_js.py.
//
// stdin: {"endpoint": "http://127.0.0.1:PORT", "region": "us-east-1",
//         "calls": [{"op": "CreateQueue", "input": {...}}, ...]}
// - {"$b64": "..."} anywhere in an input becomes a Uint8Array (BinaryValue); Uint8Arrays in outputs are
//   printed the same way.
// - A string "$ref:N.path.to[0].value" is replaced by that value of call N's output (earlier calls only).
// stdout: [{"ok": true, "output": {...}, "md5": {...}} | {"ok": false, "error": {...}}, ...]
//
// The SDK checks MD5OfMessageBody itself (middleware-sdk-sqs: SendMessage, SendMessageBatch,
// ReceiveMessage) and fails the call on a mismatch. MD5OfMessageAttributes is checked here, with AWS's
// algorithm ("Calculating the MD5 message digest for message attributes", SQS Developer Guide), and the
// result reported under "md5".
import { createHash } from "node:crypto";
import * as sqs from "@aws-sdk/client-sqs";

function decodeInput(v) {
  if (Array.isArray(v)) return v.map(decodeInput);
  if (v && typeof v === "object") {
    if (Object.keys(v).length === 1 && typeof v.$b64 === "string") return Uint8Array.from(Buffer.from(v.$b64, "base64"));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeInput(x)]));
  }
  return v;
}

function encodeOutput(v) {
  if (v instanceof Uint8Array) return { $b64: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(encodeOutput);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "$metadata").map(([k, x]) => [k, encodeOutput(x)]));
  }
  return v;
}

function lookup(results, ref) {
  const m = /^\$ref:(\d+)\.(.*)$/.exec(ref);
  if (!m) throw new Error(`bad ref ${ref}`);
  let cur = results[Number(m[1])]?.output;
  for (const part of m[2].split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
    if (cur === undefined || cur === null) break;
    cur = cur[/^\d+$/.test(part) ? Number(part) : part];
  }
  if (cur === undefined) throw new Error(`unresolved ${ref}`);
  return cur;
}

function resolve(v, results) {
  if (typeof v === "string" && v.startsWith("$ref:")) return lookup(results, v);
  if (Array.isArray(v)) return v.map((x) => resolve(x, results));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, results)]));
  return v;
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function md5OfAttributes(attrs) {
  const parts = [];
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name];
    const nameBuf = Buffer.from(name, "utf8");
    const typeBuf = Buffer.from(a.DataType, "utf8");
    parts.push(u32(nameBuf.length), nameBuf, u32(typeBuf.length), typeBuf);
    if (a.BinaryValue !== undefined) {
      const v = Buffer.from(a.BinaryValue);
      parts.push(Buffer.from([2]), u32(v.length), v);
    } else {
      const v = Buffer.from(a.StringValue, "utf8");
      parts.push(Buffer.from([1]), u32(v.length), v);
    }
  }
  return createHash("md5").update(Buffer.concat(parts)).digest("hex");
}

// Compares MD5OfMessageAttributes with what the attributes sent/received give.
function checkAttributeMd5(op, input, output) {
  const checks = [];
  if (op === "SendMessage" && input.MessageAttributes && Object.keys(input.MessageAttributes).length) {
    checks.push({ id: output.MessageId, expected: md5OfAttributes(input.MessageAttributes), got: output.MD5OfMessageAttributes });
  }
  if (op === "SendMessageBatch") {
    const byId = Object.fromEntries(input.Entries.map((e) => [e.Id, e]));
    for (const ok of output.Successful ?? []) {
      const attrs = byId[ok.Id]?.MessageAttributes;
      if (attrs && Object.keys(attrs).length) checks.push({ id: ok.Id, expected: md5OfAttributes(attrs), got: ok.MD5OfMessageAttributes });
    }
  }
  if (op === "ReceiveMessage") {
    for (const m of output.Messages ?? []) {
      if (m.MessageAttributes && Object.keys(m.MessageAttributes).length) {
        checks.push({ id: m.MessageId, expected: md5OfAttributes(m.MessageAttributes), got: m.MD5OfMessageAttributes });
      }
    }
  }
  return { checked: checks.length, mismatches: checks.filter((c) => c.expected !== c.got) };
}

async function main() {
  let raw = "";
  for await (const chunk of process.stdin) raw += chunk;
  const req = JSON.parse(raw);
  const client = new sqs.SQSClient({
    endpoint: req.endpoint,
    region: req.region ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    ...(req.useQueueUrlAsEndpoint === undefined ? {} : { useQueueUrlAsEndpoint: req.useQueueUrlAsEndpoint }),
  });
  const results = [];
  for (const call of req.calls) {
    const Command = sqs[`${call.op}Command`];
    if (!Command) {
      results.push({ ok: false, error: { name: "NoSuchCommand", message: call.op } });
      continue;
    }
    let input;
    try {
      input = decodeInput(resolve(call.input ?? {}, results));
    } catch (e) {
      results.push({ ok: false, error: { name: "DriverError", message: String(e.message) } });
      continue;
    }
    const t0 = Date.now();
    try {
      const out = await client.send(new Command(input));
      results.push({ ok: true, output: encodeOutput(out), status: out.$metadata?.httpStatusCode,
                     ms: Date.now() - t0, md5: checkAttributeMd5(call.op, input, out) });
    } catch (e) {
      results.push({ ok: false, ms: Date.now() - t0, error: {
        name: e.name, Code: e.Code, Type: e.Type, message: e.message, fault: e.$fault,
        status: e.$metadata?.httpStatusCode, queryErrorCode: e.$response?.headers?.["x-amzn-query-error"] } });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e));
  process.exit(2);
});
