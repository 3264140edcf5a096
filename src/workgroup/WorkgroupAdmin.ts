import { BridgeError } from '../errors/BridgeError.js';
import type { Dispatcher } from './Dispatcher.js';
import type { RequestStore } from './RequestStore.js';
import type { WorkgroupStore } from './WorkgroupStore.js';
import {
  DEFAULT_SETTINGS,
  parseMembers,
  parseWorkgroupName,
  settingsFrom,
  workgroupView,
  type CreateWorkgroupInput,
  type UpdateWorkgroupInput,
  type Workgroup,
} from './settings.js';
import type { z } from 'zod';

export interface WorkgroupAdminDeps {
  workgroups: WorkgroupStore;
  requests: RequestStore;
  dispatcher: Dispatcher;
  serviceDomain: string;
  domain: string;
}

/** ofchat's `/ask/admin`: workgroups, their members and settings (master secret only, checked by the routes). */
export class WorkgroupAdmin {
  constructor(private readonly deps: WorkgroupAdminDeps) {}

  async view(w: Workgroup) {
    const [agents, waiting, chats] = await Promise.all([
      this.deps.workgroups.agents(w.name),
      this.deps.requests.waiting(w.name),
      this.deps.requests.chatsByAgent(w.name),
    ]);
    return {
      ...workgroupView(w, this.deps.serviceDomain),
      agentsOnDuty: agents.map((a) => ({
        jid: a.jid,
        show: a.show,
        maxChats: a.maxChats ?? w.maxChats,
        currentChats: chats.get(a.jid) ?? 0,
      })),
      waiting: waiting.length,
    };
  }

  async list() {
    return Promise.all((await this.deps.workgroups.list()).map((w) => this.view(w)));
  }

  async get(rawName: string) {
    return this.view(await this.deps.workgroups.require(parseWorkgroupName(rawName)));
  }

  async create(input: z.infer<typeof CreateWorkgroupInput>) {
    const name = parseWorkgroupName(input.name);
    const w = await this.deps.workgroups.create({
      name,
      description: input.description,
      members: parseMembers(input.members ?? [], this.deps.domain),
      ...DEFAULT_SETTINGS,
      ...settingsFrom(input),
    });
    return this.view(w);
  }

  /** Members and/or settings; agents who are no longer members go off duty, and routing runs again. */
  async update(rawName: string, input: z.infer<typeof UpdateWorkgroupInput>) {
    const name = parseWorkgroupName(rawName);
    await this.deps.workgroups.require(name);
    const { members, description, ...settings } = input;
    await this.deps.workgroups.update(name, {
      ...settingsFrom(settings),
      ...(description !== undefined ? { description } : {}),
    });
    if (members !== undefined)
      await this.deps.workgroups.setMembers(name, parseMembers(members, this.deps.domain));
    await this.deps.dispatcher.dispatch(name);
    return this.get(name);
  }

  /** Waiting visitors are told (depart-queue), open offers revoked; chats under way carry on in their rooms. */
  async delete(rawName: string): Promise<void> {
    const name = parseWorkgroupName(rawName);
    await this.deps.workgroups.require(name);
    await this.deps.dispatcher.closeWorkgroup(name);
    if (!(await this.deps.workgroups.delete(name)))
      throw new BridgeError('NOT_FOUND', `no workgroup named ${name}`);
  }
}
