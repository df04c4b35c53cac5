// The other modules' panels, as plainly as the reference would write them: the network's
// health and alerts, billing's invoices and totals by status, support's open tickets. Each
// keeps its state in the component, as the reference's examples do.
import { useState } from "react";
import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useWebSocket } from "./WebSocketProvider.jsx";
import { markFirstLive } from "./firstPaint.js";

export function NetworkHealth({ url }) {
  const [status, setStatus] = useState(null);
  useWebSocket("network_status", (data) => {
    markFirstLive(url);
    setStatus(data);
  });
  if (!status) return <section data-testid="health">Network health: no data yet</section>;
  return (
    <section data-testid="health">
      <h2>Network health: {status.health_score} %</h2>
      <ul>
        {status.sites.map((s) => (
          <li key={s.id}>
            {s.name}: {s.status} ({s.devices_up}/{s.devices_total})
          </li>
        ))}
      </ul>
      <h3>Alerts</h3>
      <ul>
        {status.alerts.map((a) => (
          <li key={a.id}>
            [{a.severity}] {a.message}
            {a.acknowledged_by ? ` · acknowledged by ${a.acknowledged_by}` : ""}
          </li>
        ))}
      </ul>
    </section>
  );
}

const money = (minor, currency) =>
  new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);

export function Invoices({ url }) {
  const [invoices, setInvoices] = useState(() => new Map());
  const { connectionStatus } = useWebSocket("invoice_update", (invoice) => {
    markFirstLive(url);
    if (invoice?.invoice_id) setInvoices((old) => new Map(old).set(invoice.invoice_id, invoice));
  });
  const byStatus = {};
  for (const i of invoices.values()) byStatus[i.status] = (byStatus[i.status] ?? 0) + i.amount.minor / 100;
  const rows = [...invoices.values()].sort((a, b) => b.updated_at.localeCompare(a.updated_at)).slice(0, 20);
  return (
    <section data-testid="invoices">
      <h2>
        Invoices <small>{connectionStatus}</small>
      </h2>
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={Object.entries(byStatus).map(([status, total]) => ({ status, total }))}>
          <XAxis dataKey="status" />
          <YAxis />
          <Tooltip />
          <Bar dataKey="total" fill="#2563eb" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
      <table>
        <tbody>
          {rows.map((i) => (
            <tr key={i.invoice_id}>
              <td>{i.invoice_id}</td>
              <td>{i.subscriber_name}</td>
              <td>{money(i.amount.minor, i.amount.currency)}</td>
              <td>{i.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Tickets({ url }) {
  const [tickets, setTickets] = useState(() => new Map());
  const { connectionStatus } = useWebSocket("ticket_update", (ticket) => {
    markFirstLive(url);
    if (ticket?.ticket_id) setTickets((old) => new Map(old).set(ticket.ticket_id, ticket));
  });
  const open = [...tickets.values()].filter((t) => t.status === "open" || t.status === "pending");
  return (
    <section data-testid="tickets">
      <h2>
        Open tickets: {open.length} <small>{connectionStatus}</small>
      </h2>
      <ul>
        {open.map((t) => (
          <li key={t.ticket_id}>
            {t.ticket_id} [{t.priority}] {t.subject} · {t.assignee ?? "unassigned"}
          </li>
        ))}
      </ul>
    </section>
  );
}
