import { useEffect, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useWebSocket } from "./WebSocketProvider.jsx";
import { markFirstLive } from "./firstPaint.js";

const POINTS = 50;

function simulated(last) {
  const base = last ?? { upload_mbps: 75, download_mbps: 150, latency_ms: 15 };
  const drift = (v, d) => Math.max(0, v + (Math.random() - 0.5) * d);
  return {
    timestamp: new Date().toISOString(),
    upload_mbps: drift(base.upload_mbps, 10),
    download_mbps: drift(base.download_mbps, 20),
    latency_ms: drift(base.latency_ms, 4),
  };
}

export function LiveBandwidthChart({ url }) {
  const [points, setPoints] = useState([]);
  const [simulatedData, setSimulatedData] = useState(false);
  const add = (sample) =>
    setPoints((old) => [...old, { ...sample, time: new Date(sample.timestamp).toLocaleTimeString() }].slice(-POINTS));
  const { isConnected, connectionStatus } = useWebSocket("bandwidth_update", (data) => {
    markFirstLive(url);
    setSimulatedData(false);
    add(data);
  });

  useEffect(() => {
    if (isConnected) return undefined;
    setSimulatedData(true);
    const interval = setInterval(() => setPoints((old) => {
      const sample = simulated(old[old.length - 1]);
      return [...old, { ...sample, time: new Date(sample.timestamp).toLocaleTimeString() }].slice(-POINTS);
    }), 2000);
    return () => clearInterval(interval);
  }, [isConnected]);

  const last = points[points.length - 1];
  return (
    <section data-testid="bandwidth">
      <h2>
        Live bandwidth <small>{connectionStatus}{simulatedData && !isConnected ? " · simulated data" : ""}</small>
      </h2>
      {last && (
        <p>
          ↑ {last.upload_mbps.toFixed(1)} Mbps · ↓ {last.download_mbps.toFixed(1)} Mbps · {last.latency_ms.toFixed(0)} ms
        </p>
      )}
      <ResponsiveContainer width="100%" height={260}>
        <LineChart data={points}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="time" />
          <YAxis />
          <Tooltip />
          <Legend />
          <Line type="monotone" dataKey="download_mbps" name="Download" stroke="#2563eb" dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="upload_mbps" name="Upload" stroke="#16a34a" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </section>
  );
}
