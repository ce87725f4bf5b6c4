import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parseConfig, readEnvironment } from '../config/config';
import { generateSecrets } from '../config/generated-secrets';
import { flowGraph, type GraphEdge, type GraphNode } from '../flow-engine/flow-graph';
import { loadTexts, type Texts } from '../texts/texts';
import { formatProblem, loadFlows } from '../ussd/load-flows';
import { renderFragment, renderPage } from '../web/render';

/**
 * `npm run flows:graph [-- --lang fr --out flows-graph]`: one SVG picture per flow (and an
 * index.html showing them all), laid out with dagre, captions in the chosen language.
 */
const COLOURS: Readonly<Record<string, string>> = {
  menu: '#dbeafe',
  input: '#fef9c3',
  message: '#dcfce7',
  action: '#fce7f3',
  switch: '#ede9fe',
  goto: '#e5e7eb',
  external: '#f3f4f6',
};

/** The part of dagre this file uses (its bundled types do not resolve under every checker). */
interface LayoutGraph {
  setGraph(options: Record<string, unknown>): void;
  setDefaultEdgeLabel(make: () => object): void;
  setNode(id: string, value: { width: number; height: number }): void;
  hasNode(id: string): boolean;
  setEdge(from: string, to: string, value: object, name: string): void;
  graph(): { width?: number; height?: number };
  edges(): object[];
  edge(ref: object): unknown;
  nodes(): string[];
  node(id: string): unknown;
}
interface Dagre {
  graphlib: { Graph: new (options: { multigraph: boolean }) => LayoutGraph };
  layout(graph: LayoutGraph): void;
}

/** dagre is a devDependency: flows:graph is a development tool, and the production image lacks it. */
function loadDagre(): Dagre {
  try {
    return createRequire(__filename)('@dagrejs/dagre') as Dagre;
  } catch {
    console.error('flows:graph needs the development dependencies (@dagrejs/dagre): run it from a checkout after `npm ci`.');
    process.exit(1);
  }
}
const dagre = loadDagre();

function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if ((line + ' ' + word).trim().length > width) {
      lines.push(line);
      line = word;
      if (lines.length === maxLines) break;
    } else line = `${line} ${word}`.trim();
  }
  if (lines.length < maxLines && line) lines.push(line);
  return lines;
}

function caption(node: GraphNode, texts: Texts, language: string): string[] {
  const text = node.textKey && texts.has(language, node.textKey) ? texts.t(language, node.textKey, { ref: 'K7M2QX' }) : '';
  return [`${node.node} (${node.type})`, ...wrap(text.replace(/\n/g, ' '), 34, 3)];
}

function drawFlow(flowId: string, nodes: GraphNode[], edges: GraphEdge[], texts: Texts, language: string): string {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 50, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  const own = nodes.filter((node) => node.flow === flowId);
  const captions = new Map<string, string[]>();
  for (const node of own) {
    const lines = caption(node, texts, language);
    captions.set(node.id, lines);
    graph.setNode(node.id, { width: 240, height: 18 + lines.length * 15 });
  }
  const outgoing = edges.filter((edge) => edge.from.startsWith(`${flowId}/`));
  for (const [index, edge] of outgoing.entries()) {
    if (!edge.to.startsWith(`${flowId}/`) && !graph.hasNode(edge.to)) {
      captions.set(edge.to, [`→ ${edge.to}`]);
      graph.setNode(edge.to, { width: 160, height: 30 });
    }
    graph.setEdge(edge.from, edge.to, { label: edge.label, width: edge.label.length * 7, height: 14 }, `e${index}`);
  }
  dagre.layout(graph);
  const { width = 400, height = 300 } = graph.graph();

  type Edge = { points: Array<{ x: number; y: number }>; label?: string; x?: number; y?: number };
  const drawnEdges = graph.edges().map((ref) => graph.edge(ref) as Edge);
  const boxes = graph.nodes().map((id) => ({ id, box: graph.node(id) as { x: number; y: number; width: number; height: number } }));
  return renderFragment(
    <svg
      xmlns="http://www.w3.org/2000/svg" width={width} height={height + 30} viewBox={`0 -30 ${width} ${height + 30}`}
      font-family="sans-serif" font-size="12"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#555" />
        </marker>
      </defs>
      <text x="10" y="-10" font-size="16" font-weight="bold">flow {flowId} ({language})</text>
      {drawnEdges.map((edge) => (
        <>
          <polyline points={edge.points.map((point) => `${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ')}
            fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)" />
          {edge.label && edge.x !== undefined && edge.y !== undefined ? (
            <text x={edge.x.toFixed(1)} y={(edge.y + 4).toFixed(1)} text-anchor="middle" fill="#1d4ed8">{edge.label}</text>
          ) : null}
        </>
      ))}
      {boxes.map(({ id, box }) => {
        const node = own.find((candidate) => candidate.id === id);
        const x = box.x - box.width / 2;
        const y = box.y - box.height / 2;
        const fill = COLOURS[node?.type ?? 'external'] ?? '#fff';
        return (
          <>
            <rect
              x={x.toFixed(1)} y={y.toFixed(1)} width={box.width} height={box.height} rx="6" fill={fill}
              stroke={node?.isStart ? '#b91c1c' : '#6b7280'} stroke-width={node?.isStart ? 2.5 : 1}
            />
            {(captions.get(id) ?? []).map((line, index) => (
              <text x={(x + 8).toFixed(1)} y={(y + 16 + index * 15).toFixed(1)} font-weight={index === 0 ? 'bold' : undefined}>{line}</text>
            ))}
          </>
        );
      })}
    </svg>,
  );
}

function main(): number {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const config = parseConfig({ ...generateSecrets(), ...readEnvironment() });
  const texts = loadTexts(resolve(config.ussd.templatesDir));
  const language = option('lang') ?? texts.defaultLanguage;
  const out = resolve(option('out') ?? 'flows-graph');
  const { set, problems } = loadFlows(resolve(config.ussd.flowsDir), config.ussd.entryFlow);
  for (const problem of problems) console.error(`warning: ${formatProblem(problem)}`);
  const { nodes, edges } = flowGraph(set);
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  for (const flowId of set.flows.keys()) {
    const file = join(out, `${flowId}.svg`);
    writeFileSync(file, drawFlow(flowId, nodes, edges, texts, language));
    files.push(file);
    console.log(`wrote ${file}`);
  }
  const index = join(out, 'index.html');
  const flowIds = [...set.flows.keys()];
  writeFileSync(
    index,
    renderPage(
      <>
        <meta charset="utf-8" />
        <title>safeline flows</title>
        <body style="font-family:sans-serif">
          <h1>safeline USSD flows ({language})</h1>
          {flowIds.map((flowId) => <><h2>{flowId}</h2><img src={`${flowId}.svg`} alt={`flow ${flowId}`} /></>)}
        </body>
      </>,
    ),
  );
  console.log(`wrote ${index} (open it in a browser)`);
  return 0;
}

process.exitCode = main();
