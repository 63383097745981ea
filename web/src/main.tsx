import { render } from 'preact';
import { App } from './app.tsx';

const root = document.getElementById('app');
if (!root) throw new Error('index.html lacks #app');
render(<App />, root);
