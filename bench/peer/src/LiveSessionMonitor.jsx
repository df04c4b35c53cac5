import { useState } from "react";
import { useWebSocket } from "./WebSocketProvider.jsx";
import { markFirstLive } from "./firstPaint.js";

const MB = 1024 * 1024;

export function LiveSessionMonitor({ url }) {
  const [sessions, setSessions] = useState(() => new Map());
  const { connectionStatus } = useWebSocket("session_update", (update) => {
    markFirstLive(url);
    setSessions((old) => {
      const next = new Map(old);
      const session = update?.session;
      if (!session) return old;
      if (update.action === "terminate") next.delete(session.session_id);
      else next.set(session.session_id, session);
      return next;
    });
  });
  const rows = [...sessions.values()].sort((a, b) => b.session_time_seconds - a.session_time_seconds);
  return (
    <section data-testid="sessions">
      <h2>
        Active sessions: {rows.length} <small>{connectionStatus}</small>
      </h2>
      <table>
        <thead>
          <tr>
            <th>User</th>
            <th>IP address</th>
            <th>NAS</th>
            <th>Upload</th>
            <th>Download</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.session_id} data-session={s.session_id}>
              <td>{s.username}</td>
              <td>{s.ip_address}</td>
              <td>{s.nas_ip_address}</td>
              <td>{(s.upload_bytes / MB).toFixed(1)} MB</td>
              <td>{(s.download_bytes / MB).toFixed(1)} MB</td>
              <td>{Math.floor(s.session_time_seconds / 60)} min</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
