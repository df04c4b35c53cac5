import { WebSocketProvider } from "./WebSocketProvider.jsx";
import { LiveBandwidthChart } from "./LiveBandwidthChart.jsx";
import { LiveSessionMonitor } from "./LiveSessionMonitor.jsx";
import { Invoices, NetworkHealth, Tickets } from "./Panels.jsx";

// A module's URL from config.json (a path becomes ws(s)://<this host><path>).
function moduleUrl(config, id) {
  const url = config?.modules?.[id]?.url ?? `/ws/${id}`;
  if (url.startsWith("ws://") || url.startsWith("wss://")) return url;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${url}`;
}

// The pages of Switchboard's benchmark: `/` (every module), `/network`, `/sessions`,
// `/billing`, `/support`. Each module has its own provider, hence its own connection.
export function App({ config }) {
  const token = sessionStorage.getItem(config?.token_key ?? "switchboard.access_token");
  const page = location.pathname.replace(/^\//, "") || "overview";
  const shows = (id) => page === "overview" || page === id;
  const url = (id) => moduleUrl(config, id);
  return (
    <main>
      <h1>Switchboard (React peer)</h1>
      <nav>
        {["", "network", "sessions", "billing", "support"].map((p) => (
          <a key={p} href={`/${p}`} style={{ marginRight: 12 }}>
            {p || "overview"}
          </a>
        ))}
      </nav>
      {shows("network") && (
        <WebSocketProvider url={url("network")} token={token}>
          <LiveBandwidthChart url={url("network")} />
          <NetworkHealth url={url("network")} />
        </WebSocketProvider>
      )}
      {shows("sessions") && (
        <WebSocketProvider url={url("sessions")} token={token}>
          <LiveSessionMonitor url={url("sessions")} />
        </WebSocketProvider>
      )}
      {shows("billing") && (
        <WebSocketProvider url={url("billing")} token={token}>
          <Invoices url={url("billing")} />
        </WebSocketProvider>
      )}
      {shows("support") && (
        <WebSocketProvider url={url("support")} token={token}>
          <Tickets url={url("support")} />
        </WebSocketProvider>
      )}
    </main>
  );
}
