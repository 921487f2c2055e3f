// The training panel: progress of one run and a live chart of loss, reward margin and entropy per step.
import type { FromTrainWebview, ToTrainWebview, TrainView } from '../src/protocol/trainMessages';
import { buildChart, formatValue, type ChartBox, type ChartMetric } from './trainChart';

interface VsCodeApi {
  postMessage(message: FromTrainWebview): void;
  getState(): TrainView | undefined;
  setState(state: TrainView): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let view: TrainView | undefined = vscode.getState();
let pending = false;
const root = document.getElementById('root')!;
const SVG = 'http://www.w3.org/2000/svg';

const METRICS: { key: ChartMetric; title: string; help: string }[] = [
  { key: 'loss', title: 'Loss', help: 'Training loss per optimizer step.' },
  { key: 'rewardMargin', title: 'Reward margin', help: 'Mean reward of chosen (desirable) minus rejected (undesirable) sequences.' },
  { key: 'entropy', title: 'Entropy (nats)', help: "Mean entropy of the policy's next-token distribution over assistant tokens: EntroPO keeps it from collapsing." },
];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { className?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function svg(tag: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label: string, title: string, message: FromTrainWebview, secondary = false): HTMLButtonElement {
  const b = el('button', { textContent: label, title, className: secondary ? 'secondary' : '' });
  b.dataset.action = message.type;
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function header(v: TrainView): HTMLElement {
  const last = v.points[v.points.length - 1];
  const facts = [`status: ${v.status}`, `method: ${v.method}`];
  if (v.totalSteps) facts.push(`step ${last?.step ?? 0} / ${v.totalSteps}`);
  if (v.status === 'running' && v.etaS !== undefined) facts.push(`ETA ${duration(v.etaS)}`);
  if (last?.prefAccuracy !== null && last?.prefAccuracy !== undefined) facts.push(`accuracy ${last.prefAccuracy.toFixed(2)}`);
  const h = el('header', {},
    el('h1', { textContent: `Fine-tuning ${v.baseModel.split('/').filter(Boolean).pop() ?? v.baseModel}` }),
    el('p', { className: 'facts', textContent: facts.join(' · ') }),
    el('p', { className: 'muted', textContent: `data: ${v.data}` }));
  if (v.message) h.append(el('p', { className: v.status === 'failed' ? 'message error' : 'message', textContent: v.message }));
  return h;
}

function chart(v: TrainView, metric: (typeof METRICS)[number], width: number): HTMLElement {
  const box: ChartBox = { width, height: 150, left: 52, right: 12, top: 10, bottom: 24 };
  const model = buildChart(v.points, metric.key, v.totalSteps, box);
  const figure = el('figure', { className: `chart ${metric.key}` });
  figure.dataset.metric = metric.key;
  figure.dataset.points = String(model.defined);
  const latest = model.latest === null ? 'not reported' : formatValue(model.latest);
  figure.append(el('figcaption', { title: metric.help }, el('span', { className: 'name', textContent: metric.title }), ` ${latest}`));
  const plot = svg('svg', { width, height: box.height, viewBox: `0 0 ${width} ${box.height}`, role: 'img', 'aria-label': `${metric.title} per step, latest ${latest}` });
  for (const t of model.yTicks) {
    plot.append(svg('line', { class: 'grid', x1: box.left, x2: width - box.right, y1: t.at, y2: t.at }));
    plot.append(svg('text', { class: 'tick', x: box.left - 6, y: t.at + 4, 'text-anchor': 'end' }, t.label));
  }
  for (const t of model.xTicks) plot.append(svg('text', { class: 'tick', x: t.at, y: box.height - 6, 'text-anchor': 'middle' }, t.label));
  plot.append(svg('line', { class: 'axis', x1: box.left, x2: width - box.right, y1: box.height - box.bottom, y2: box.height - box.bottom }));
  if (model.path) plot.append(svg('path', { class: `series ${metric.key}`, d: model.path }));
  if (model.latestAt) plot.append(svg('circle', { class: `marker ${metric.key}`, cx: model.latestAt.x, cy: model.latestAt.y, r: 3 }));
  figure.append(plot);
  return figure;
}

function actions(v: TrainView): HTMLElement {
  const bar = el('div', { className: 'actions' });
  if (v.status === 'setup' || v.status === 'running') bar.append(button('Cancel', 'Stop the training run', { type: 'cancel' }, true));
  if (v.status === 'done') {
    if (v.vllmCommand) bar.append(button('Copy vLLM Command', 'Copy the command that serves the adapter', { type: 'copyVllmCommand' }));
    for (const offer of otherOffers(v)) {
      bar.append(button(`Copy ${offer.server} Command`, `Copy the command that serves the adapter with ${offer.server}`, { type: 'copyServeCommand', server: offer.server }, true));
    }
    bar.append(button('Reveal Adapter', 'Show the adapter folder', { type: 'revealAdapter' }, true));
  }
  return bar;
}

function render(): void {
  pending = false;
  root.replaceChildren();
  if (!view) {
    root.append(el('p', { className: 'muted', textContent: 'No training run yet. Run "EntroPO: Fine-Tune the Model (EntroPO)..." to start.' }));
    return;
  }
  const width = Math.max(280, Math.min(900, root.clientWidth || 600));
  root.append(header(view), actions(view));
  if (view.points.length === 0) {
    if (view.status === 'setup' || view.status === 'running') root.append(el('p', { className: 'muted', textContent: 'The curves appear after the first optimizer step.' }));
  } else {
    const charts = el('section', { className: 'charts' });
    charts.setAttribute('aria-label', 'Training curves');
    for (const metric of METRICS) charts.append(chart(view, metric, width));
    root.append(charts);
  }
  if (view.status === 'done' && view.vllmCommand) root.append(el('pre', { className: 'command', textContent: view.vllmCommand }));
  if (view.status === 'done') {
    for (const offer of otherOffers(view)) {
      root.append(el('p', { className: 'muted', textContent: `With ${offer.server} (then ${offer.then}):` }), el('pre', { className: 'serve-command', textContent: offer.command }));
    }
  }
}

/** The offers beyond vLLM's, whose command has a button and a block of its own above. */
function otherOffers(v: TrainView): NonNullable<TrainView['serveOffers']> {
  return (v.serveOffers ?? []).filter((offer) => offer.server !== 'vLLM');
}

// Steps can arrive many times a second; draw at most once per frame.
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(render);
}

window.addEventListener('message', (event: MessageEvent<ToTrainWebview>) => {
  const message = event.data;
  if (message.type === 'state') view = message.state;
  else if (message.type === 'step' && view?.runId === message.runId) {
    view.points.push(message.point);
    view.totalSteps = message.totalSteps;
    view.etaS = message.etaS;
  }
  if (view) vscode.setState(view);
  schedule();
});
window.addEventListener('resize', schedule);

render();
vscode.postMessage({ type: 'ready' });
