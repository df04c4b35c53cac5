// The reference's WebSocketProvider on react-use-websocket: the auth frame first, channel
// subscriptions (and "*"), status, sendMessage, reconnect with min(3 s * 2^attempt, 30 s) for
// 10 attempts. One provider per module: each has its own connection.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import useReactWebSocket, { ReadyState } from "react-use-websocket";

const Context = createContext(null);

const STATUS = {
  [ReadyState.CONNECTING]: "connecting",
  [ReadyState.OPEN]: "connected",
  [ReadyState.CLOSING]: "disconnected",
  [ReadyState.CLOSED]: "disconnected",
  [ReadyState.UNINSTANTIATED]: "disconnected",
};

export function WebSocketProvider({ url, token, reconnectInterval = 3000, maxReconnectAttempts = 10, children }) {
  const subscribers = useRef(new Map());
  const [failed, setFailed] = useState(false);
  const { sendJsonMessage, readyState } = useReactWebSocket(url, {
    share: false,
    shouldReconnect: () => true,
    reconnectAttempts: maxReconnectAttempts,
    reconnectInterval: (attempt) => Math.min(reconnectInterval * 2 ** attempt, 30000),
    onOpen: () => {
      setFailed(false);
      sendJsonMessage({ type: "auth", token });
    },
    onError: () => setFailed(true),
    onMessage: (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message.type !== "string") return;
      for (const key of [message.type, "*"]) {
        const set = subscribers.current.get(key);
        if (set) for (const callback of set) callback(key === "*" ? message : message.data);
      }
    },
  });

  const subscribe = useCallback((channel, callback) => {
    const map = subscribers.current;
    if (!map.has(channel)) map.set(channel, new Set());
    map.get(channel).add(callback);
    return () => map.get(channel)?.delete(callback);
  }, []);

  const sendMessage = useCallback(
    (type, data) => {
      if (readyState !== ReadyState.OPEN) {
        console.warn("WebSocket is not connected");
        return;
      }
      sendJsonMessage({ type, data, timestamp: new Date().toISOString() });
    },
    [readyState, sendJsonMessage],
  );

  const value = useMemo(() => {
    const connectionStatus = failed && readyState !== ReadyState.OPEN ? "error" : STATUS[readyState];
    return { isConnected: readyState === ReadyState.OPEN, connectionStatus, sendMessage, subscribe };
  }, [failed, readyState, sendMessage, subscribe]);

  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useWebSocket(channel, callback) {
  const context = useContext(Context);
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (!channel || !context) return undefined;
    return context.subscribe(channel, (data) => latest.current?.(data));
  }, [channel, context?.subscribe]);
  return context;
}

export function useWebSocketSubscription(channel) {
  const [data, setData] = useState(null);
  useWebSocket(channel, setData);
  return [data, setData];
}
