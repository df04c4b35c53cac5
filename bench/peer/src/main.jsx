// The React peer: the same dashboard pages Switchboard's benchmark loads, built the way the
// reference guide describes (a provider per module, channel subscriptions, Recharts), so
// both apps are measured side by side against the same development backend.
import { createRoot } from "react-dom/client";
import { App } from "./App.jsx";

// The deployment's config.json, in Switchboard's format: each module's URL and the
// sessionStorage key of the token.
async function loadConfig() {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    return await response.json();
  } catch {
    return {};
  }
}

loadConfig().then((config) => {
  createRoot(document.getElementById("root")).render(<App config={config} />);
});
