// One event stream for every open tab of the sandbox. A browser opens at most six connections
// to a host and each stream holds one for good, so tabs share this worker's stream instead of
// each opening its own (the seventh tab would otherwise never load).

const ports = new Set();
let source = null;

function broadcast(message) {
  for (const port of ports) port.postMessage(message);
}

function open() {
  source = new EventSource("/_sandbox/events");
  source.onopen = () => broadcast({ type: "open" });
  source.onmessage = (event) => broadcast({ type: "event", data: event.data });
  source.onerror = () => broadcast({ type: "error" });
}

self.onconnect = (event) => {
  const port = event.ports[0];
  ports.add(port);
  port.onmessage = (message) => {
    if (message.data === "close") ports.delete(port);
  };
  if (source === null) open();
  else if (source.readyState === EventSource.OPEN) port.postMessage({ type: "open" });
};
