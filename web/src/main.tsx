import "@mantine/core/styles.css";
import "./styles.css";
import { createTheme, MantineProvider } from "@mantine/core";
import { setNonce } from "get-nonce";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./app.tsx";

// Shade 8 and automatic text contrast keep filled buttons, links and badges at WCAG AA.
const theme = createTheme({ primaryShade: 8, autoContrast: true });

// The server's Content-Security-Policy admits <style> elements with this response's
// nonce only. Vite writes it into index.html; Mantine puts it on the <style> elements it
// adds, and get-nonce hands it to react-remove-scroll's (modals lock the page's scroll).
const styleNonce = document.querySelector<HTMLMetaElement>("meta[property=csp-nonce]")?.nonce ?? "";
setNonce(styleNonce);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={theme} getStyleNonce={() => styleNonce}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </MantineProvider>
  </StrictMode>,
);
