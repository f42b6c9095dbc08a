import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');

if (!window.atelier) {
  // Opened outside a host (e.g. the built file in a browser): say so instead of failing silently.
  root.textContent = 'Atelier must be opened from the desktop app or the URL printed by `atelier serve`.';
} else {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
