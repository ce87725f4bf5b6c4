import type { ActionType } from './actions/action-type';
import { createReport } from './actions/create-report';
import { requestCallback } from './actions/request-callback';
import { setLanguage } from './actions/set-language';
import { skipProfile } from './actions/skip-profile';
import { subscribe, unsubscribe } from './actions/subscription';
import { actionNode } from './nodes/action';
import { gotoNode } from './nodes/goto';
import { inputNode } from './nodes/input';
import { menuNode } from './nodes/menu';
import { messageNode } from './nodes/message';
import { questionNode } from './nodes/question';
import { switchNode } from './nodes/switch';
import type { NodeBase, NodeType } from './types';

/** Every action a flow may name. Add one file under actions/ and one line here. */
export const ACTIONS: ReadonlyMap<string, ActionType> = new Map(
  ([createReport, requestCallback, subscribe, unsubscribe, setLanguage, skipProfile] as ActionType[]).map((action) => [
    action.name,
    action,
  ]),
);

/** Every node type a flow may use. Add one file under nodes/ and one line here. */
export const NODE_TYPES: ReadonlyMap<string, NodeType<NodeBase>> = new Map(
  (
    [menuNode, inputNode, messageNode, actionNode(ACTIONS), switchNode, gotoNode, questionNode] as unknown as NodeType<NodeBase>[]
  ).map((type) => [type.type, type]),
);

/** Interactive nodes wait for the caller's input. */
export const isInteractive = (type: NodeType<NodeBase>): boolean => typeof type.input === 'function';
