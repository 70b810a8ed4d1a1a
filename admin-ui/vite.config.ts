// Builds the operator console SPA into dist/admin, served at /admin by
// src/http/webmail-static.ts (adminStatic). Run from the repository root as
// `vite build admin-ui` (this directory is Vite's root).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/admin/',
  build: {
    outDir: '../dist/admin',
    emptyOutDir: true,
    // The app shell's CSP has no 'unsafe-inline': every script and style is a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
