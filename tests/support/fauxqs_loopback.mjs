// Starts fauxqs bound to 127.0.0.1 only: fauxqs 2.4.1 hard-codes 0.0.0.0, and test
// servers here listen on loopback alone. Settings come from FAUXQS_* as with its CLI.
import http from "node:http";
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const options = args[0];
  if (options && typeof options === "object" && ["0.0.0.0", "::"].includes(options.host)) {
    args[0] = { ...options, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

// A fault switch for soak tests: POST /__outpost/fault/{none|drop|hang|server-error} makes
// every SQS send (X-Amz-Target AmazonSQS.SendMessage*) that follows be dropped unanswered,
// held until the fault changes, or answered 500; other calls (a test's own receives) are
// never touched. Held sends are handled again under the new fault when it changes.
let fault = "none";
let held = [];
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event !== "request") return emit.call(this, event, ...args);
  const [request, response] = args;
  const control = /^\/__outpost\/fault\/(none|drop|hang|server-error)$/.exec(request.url ?? "");
  if (control && request.method === "POST") {
    fault = control[1];
    const release = held;
    held = [];
    for (const hung of release) hung.server.emit("request", hung.request, hung.response);
    response.writeHead(204).end();
    return true;
  }
  const target = String(request.headers["x-amz-target"] ?? "");
  if (fault === "none" || !target.includes("SendMessage")) return emit.call(this, event, ...args);
  if (fault === "drop") {
    request.socket.destroy();
  } else if (fault === "hang") {
    held.push({ server: this, request, response });
  } else {
    response.writeHead(500, { "content-type": "application/x-amz-json-1.0" });
    response.end(JSON.stringify({ __type: "InternalFailure", message: "injected by the test" }));
  }
  return true;
};

const { startFauxqs } = await import("fauxqs");
await startFauxqs({ logger: process.env.FAUXQS_LOGGER === "true" });
