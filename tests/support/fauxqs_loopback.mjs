// Starts fauxqs bound to 127.0.0.1 only: fauxqs 2.4.1 hard-codes 0.0.0.0, and test
// servers here listen on loopback alone. Settings come from FAUXQS_* as with its CLI.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const options = args[0];
  if (options && typeof options === "object" && ["0.0.0.0", "::"].includes(options.host)) {
    args[0] = { ...options, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};

const { startFauxqs } = await import("fauxqs");
await startFauxqs({ logger: process.env.FAUXQS_LOGGER === "true" });
