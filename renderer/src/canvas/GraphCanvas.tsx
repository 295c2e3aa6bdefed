// The canvas: React Flow drawing the editor store. The store is the truth;
// React Flow only reports what the user did (moves, selections, wires).
import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react';
import {
  Background,
  BackgroundVariant,
  Controls,
  getViewportForBounds,
  MiniMap,
  ReactFlow,
  SelectionMode,
  useReactFlow,
  useStore,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
} from '@xyflow/react';
import { editor, toast, ui, useEditor } from '../editor.js';
import { BlockNode } from './BlockNode.js';
import { ShapeEdge } from './ShapeEdge.js';
import { ConnectionPreview, orient, verdictFor } from './ConnectionPreview.js';
import { QuickAdd } from './QuickAdd.js';
import { ContextMenu } from './ContextMenu.js';
import { useCanvasGestures } from './useCanvasGestures.js';
import { Comments } from './Comments.js';
import { canvasApi } from './canvasApi.js';
import { makeEdgeCache, makeNodeCache, type BlockFlowNode, type Measured, type ShapeFlowEdge } from './flowElements.js';
import { categoryHue } from '../ui-format.js';
import { registry } from '../../../engine/blocks/registry.js';
import { Breadcrumb, EmptyCanvas, useCompositeKeys } from './CompositeChrome.js';
import { FIT_PADDING, inputEndViewport, MIN_FIT_ZOOM, takeInputEndRequest } from './framing.js';
import { nodeHeight } from './nodeBox.js';
import './canvas.css';

const nodeTypes = { block: BlockNode };
const edgeTypes = { shape: ShapeEdge };
export const BLOCK_MIME = 'application/x-attn-block';
/** Below this zoom labels are too small to read: the canvas draws less (canvas.css). */
export const FAR_ZOOM = 0.25;

// Props given to React Flow are constants or stable callbacks: React Flow copies
// changed props into its store (every node and edge then re-checks itself), and
// a new onNodeDoubleClick re-renders all node wrappers.
const MULTI_SELECT_KEYS = ['Shift', 'Control', 'Meta'];
const PAN_BUTTONS = [1, 2];
const FIT_VIEW = { padding: FIT_PADDING, maxZoom: 1 };
const PRO_OPTIONS = { hideAttribution: true };
const sealEdit = () => editor.getState().seal();
const openComposite = (_e: React.MouseEvent, n: BlockFlowNode) => void editor.getState().enterComposite({ node: n.id });
const closeQuickAdd = () => ui.setState({ quickAdd: null, contextMenu: null });

export function GraphCanvas() {
  const flow = useReactFlow<BlockFlowNode, ShapeFlowEdge>();
  const measured = useRef<Measured>(new Map()).current;
  const [measureTick, remeasured] = useReducer((n: number) => n + 1, 0);
  const nodeCache = useMemo(makeNodeCache, []);
  const edgeCache = useMemo(makeEdgeCache, []);
  // The scope shown: the graph, or the inside of the composite being edited.
  const view = useEditor((s) => s.view);
  const { graph, analysis, diagnostics } = view;
  const selection = useEditor((s) => s.selection);
  const nodes = useMemo(
    () => nodeCache({ graph, analysis, diagnostics, selection }, measured),
    // measureTick: sizes live in a mutable map
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [graph, analysis, diagnostics, selection, measureTick],
  );
  const edges = useMemo(() => edgeCache({ graph, analysis, diagnostics, selection }), [graph, analysis, diagnostics, selection, edgeCache]);

  const pointer = useRef<{ x: number; y: number } | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);
  const frameInputEnd = useCallback(() => {
    const { graph: shown, analysis: info } = editor.getState().view;
    const v = inputEndViewport(shown, wrapper.current?.clientHeight ?? 0, (id) => measured.get(id)?.height ?? nodeHeight(info.nodes.get(id)));
    if (v) void flow.setViewport(v);
  }, [flow, measured]);

  /** The whole graph, fitted if it reads at MIN_FIT_ZOOM or more; else its input end, readable. */
  const frameOpened = useCallback(() => {
    const box = wrapper.current;
    const shown = flow.getNodes();
    if (!box || shown.length === 0) return;
    const fit = getViewportForBounds(flow.getNodesBounds(shown), box.clientWidth, box.clientHeight, 0.05, FIT_VIEW.maxZoom, FIT_PADDING);
    if (fit.zoom >= MIN_FIT_ZOOM) void flow.setViewport(fit);
    else frameInputEnd();
  }, [flow, frameInputEnd]);

  const loadCount = useEditor((s) => s.loadCount);
  const scopeKey = view.scope.join('/');
  useEffect(() => {
    if (loadCount === 0 && scopeKey === '') return;
    const inputEnd = takeInputEndRequest();
    // After the new document's (or scope's) nodes are measured.
    const t = setTimeout(() => (inputEnd ? frameInputEnd() : frameOpened()), 60);
    return () => clearTimeout(t);
  }, [loadCount, scopeKey, frameInputEnd, frameOpened]);

  const gesture = useRef(0);
  const onDragStart = useCallback(() => void gesture.current++, []);
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);

  useEffect(() => {
    canvasApi.current = {
      toFlow: (p) => flow.screenToFlowPosition(p),
      pointerOverCanvas: () => pointer.current,
      dropPoint: () => {
        if (pointer.current) return flow.screenToFlowPosition(pointer.current);
        const r = wrapper.current?.getBoundingClientRect();
        return r ? flow.screenToFlowPosition({ x: r.left + r.width / 2 - 100, y: r.top + r.height / 2 - 60 }) : { x: 0, y: 0 };
      },
      fit: () => void flow.fitView({ padding: FIT_PADDING, maxZoom: 1.5, duration: 200 }),
      frameInputEnd,
      zoomIn: () => void flow.zoomIn({ duration: 150 }),
      zoomOut: () => void flow.zoomOut({ duration: 150 }),
      zoomReset: () => void flow.zoomTo(1, { duration: 150 }),
      focusNode: (id) => {
        const n = editor.getState().view.graph.nodes.find((x) => x.id === id);
        const m = measured.get(id) ?? { width: 220, height: 120 };
        if (n) void flow.setCenter(n.position.x + m.width / 2, n.position.y + m.height / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 250 });
      },
      measured,
    };
    return () => void (canvasApi.current = null);
  }, [flow, measured, frameInputEnd]);

  const onNodesChange = useCallback(
    (changes: NodeChange<BlockFlowNode>[]) => {
      const s = editor.getState();
      const positions: Record<string, { x: number; y: number }> = {};
      let selected: Set<string> | undefined;
      let sized = false;
      for (const c of changes) {
        if (c.type === 'position' && c.position) positions[c.id] = c.position;
        else if (c.type === 'dimensions' && c.dimensions) {
          const old = measured.get(c.id);
          if (!old || old.width !== c.dimensions.width || old.height !== c.dimensions.height) {
            measured.set(c.id, c.dimensions);
            sized = true;
          }
        } else if (c.type === 'select') {
          selected ??= new Set(s.selection.nodes);
          if (c.selected) selected.add(c.id);
          else selected.delete(c.id);
        }
      }
      if (Object.keys(positions).length) s.moveNodes(positions, String(gesture.current));
      if (selected) s.select(selected, s.selection.edges);
      if (sized) remeasured();
    },
    [measured],
  );

  const onEdgesChange = useCallback((changes: EdgeChange<ShapeFlowEdge>[]) => {
    const s = editor.getState();
    let selected: Set<string> | undefined;
    for (const c of changes)
      if (c.type === 'select') {
        selected ??= new Set(s.selection.edges);
        if (c.selected) selected.add(c.id);
        else selected.delete(c.id);
      }
    if (selected) s.select(s.selection.nodes, selected);
  }, []);

  const isValidConnection: IsValidConnection<ShapeFlowEdge> = useCallback((c) => {
    if (!c.sourceHandle || !c.targetHandle) return false;
    return verdictFor({ node: c.source, port: c.sourceHandle }, { node: c.target, port: c.targetHandle }).ok;
  }, []);

  const onConnect = useCallback((c: Connection) => {
    if (!c.sourceHandle || !c.targetHandle) return;
    const v = editor.getState().connect({ node: c.source, port: c.sourceHandle }, { node: c.target, port: c.targetHandle });
    if (!v.ok) toast(`Connection refused: ${v.reason}`, 'error');
  }, []);

  const onConnectEnd = useCallback((e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.fromHandle?.id && state.fromNode && !state.toHandle && !state.isValid) {
      // Dropped on empty canvas: search the blocks that can take this wire, then connect the one chosen.
      const at = 'changedTouches' in e ? e.changedTouches[0] : e;
      if (!(e.target as Element | null)?.closest?.('.react-flow__pane')) return;
      ui.setState({
        quickAdd: { screen: { x: at.clientX, y: at.clientY }, wire: { node: state.fromNode.id, port: state.fromHandle.id, side: state.fromHandle.type } },
      });
      return;
    }
    if (!state.fromHandle?.id || !state.toHandle?.id || !state.fromNode || !state.toNode || state.isValid) return;
    if (state.fromHandle.type === state.toHandle.type) return toast(`Connection refused: connect an output to an input`, 'error');
    const { from, to } = orient({ node: state.fromNode.id, port: state.fromHandle.id }, state.fromHandle.type, {
      node: state.toNode.id,
      port: state.toHandle.id,
    });
    const v = verdictFor(from, to);
    if (!v.ok) toast(`Connection refused: ${v.reason}`, 'error');
  }, []);

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(BLOCK_MIME);
      if (!type) return;
      e.preventDefault();
      editor.getState().addBlock(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [flow],
  );

  const minimapColor = useCallback((n: BlockFlowNode) => {
    if (n.data.diagnostics?.some((d) => d.severity === 'error')) return '#e5484d';
    return `hsl(${categoryHue(n.data.info?.block.category ?? registry.get(n.data.node.type)?.category ?? '')} 45% 45%)`;
  }, []);

  useCompositeKeys();
  const gestures = useCanvasGestures(wrapper);

  return (
    <div
      className={`canvas${far ? ' canvas--far' : ''}`}
      ref={wrapper}
      data-testid="canvas"
      onPointerMove={(e) => (pointer.current = { x: e.clientX, y: e.clientY })}
      onPointerLeave={() => (pointer.current = null)}
      {...gestures.handlers}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(BLOCK_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }
      }}
      onDrop={onDrop}
    >
      <ReactFlow<BlockFlowNode, ShapeFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={onDragStart}
        onSelectionDragStart={onDragStart}
        onNodeDragStop={sealEdit}
        onSelectionDragStop={sealEdit}
        onNodeDoubleClick={openComposite}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        connectionLineComponent={ConnectionPreview}
        connectionRadius={24}
        onPaneClick={closeQuickAdd}
        deleteKeyCode={null}
        selectionKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionOnDrag
        selectionMode={SelectionMode.Partial}
        panOnDrag={PAN_BUTTONS}
        panActivationKeyCode="Alt"
        zoomOnDoubleClick={false}
        minZoom={0.05}
        maxZoom={2.5}
        onlyRenderVisibleElements
        fitView
        fitViewOptions={FIT_VIEW}
        proOptions={PRO_OPTIONS}
        colorMode="dark"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#3a3f4b" />
        <MiniMap pannable zoomable nodeColor={minimapColor} maskColor="rgba(12,14,18,0.7)" data-testid="minimap" />
        <Controls showInteractive={false} />
        <Comments />
      </ReactFlow>
      <QuickAdd />
      <ContextMenu />
      {gestures.knife && (
        <svg className="knife" data-testid="knife">
          <polyline points={gestures.knife.map((p) => `${p.x},${p.y}`).join(' ')} />
        </svg>
      )}
      <Breadcrumb />
      {graph.nodes.length === 0 && view.scope.length === 0 && <EmptyCanvas />}
    </div>
  );
}
