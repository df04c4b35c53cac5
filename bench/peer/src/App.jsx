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

// Each module's panels, in navigation order.
const MODULES = [
  ["network", [LiveBandwidthChart, NetworkHealth]],
  ["sessions", [LiveSessionMonitor]],
  ["billing", [Invoices]],
  ["support", [Tickets]],
];

// The pages of Switchboard's benchmark: `/` (every module), `/network`, `/sessions`,
// `/billing`, `/support`. Each module has its own provider, hence its own connection.
export function App({ config }) {
  const token = sessionStorage.getItem(config?.token_key ?? "switchboard.access_token");
  const page = location.pathname.replace(/^\//, "") || "overview";
  return (
    <main>
      <h1>Switchboard (React peer)</h1>
      <nav>
        {["", ...MODULES.map(([id]) => id)].map((p) => (
          <a key={p} href={`/${p}`} style={{ marginRight: 12 }}>
            {p || "overview"}
          </a>
        ))}
      </nav>
      {MODULES.filter(([id]) => page === "overview" || page === id).map(([id, panels]) => {
        const url = moduleUrl(config, id);
        return (
          <WebSocketProvider key={id} url={url} token={token}>
            {panels.map((Panel, i) => (
              <Panel key={i} url={url} />
            ))}
          </WebSocketProvider>
        );
      })}
    </main>
  );
}
