/**
 * The Lab view's state: the models the lab can measure, the teacher and students chosen, the
 * benchmark run in progress (fed by 'lab.progress' events, never polled) and the stored runs,
 * the side-by-side comparison, and variant building. Views read these fields and call the actions.
 */
import type {
  DemoInfo,
  LabCompareResult,
  LabProgress,
  LabRun,
  ModelInfo,
  VariantSpecArgs,
} from '../../../main/core/contract.ts';
import { errorMessage, type Client } from '../lib/client.ts';
import { downloadText } from '../lib/download.ts';

export type VariantKind = 'fp16' | 'int8' | 'mixed' | 'lowrank';

const FINAL = new Set(['done', 'failed', 'cancelled']);

export class LabState {
  models = $state<ModelInfo[]>([]);
  modelsLoaded = $state(false);
  modelsError = $state<string | null>(null);

  teacher = $state<string | null>(null);
  students = $state<string[]>([]);
  labelled = $state('');
  /** The bundled demo (its captions are a ready labelled set), or null when not installed. */
  demo = $state<DemoInfo | null>(null);

  /** The run being measured now (its id once 'lab.run' answered). */
  runningId = $state<number | null>(null);
  starting = $state(false);
  progress = $state<LabProgress | null>(null);
  /** The run as a whole: models measured of models in the run (the stages count other things). */
  overall = $state<{ done: number; total: number }>({ done: 0, total: 0 });
  runError = $state<string | null>(null);
  cancelling = $state(false);

  runs = $state<LabRun[]>([]);
  selectedRunId = $state<number | null>(null);
  resultsError = $state<string | null>(null);
  exportError = $state<string | null>(null);

  compareTeacher = $state<string | null>(null);
  compareStudent = $state<string | null>(null);
  compareText = $state('');
  compareLimit = $state(12);
  comparing = $state(false);
  compare = $state<LabCompareResult | null>(null);
  compareError = $state<string | null>(null);

  variantModel = $state<string | null>(null);
  variantKind = $state<VariantKind>('int8');
  variantBudgetMb = $state(2);
  variantRank = $state(16);
  variantBusy = $state(false);
  variantProgress = $state<LabProgress | null>(null);
  variantError = $state<string | null>(null);
  /** The model the last build made, highlighted in the list with "Use for search". */
  madeVariant = $state<ModelInfo | null>(null);

  useBusy = $state<string | null>(null);
  useError = $state<{ id: string; message: string } | null>(null);

  installed = $derived(this.models.filter((m) => m.installed && m.problems.length === 0));
  hasRoles = $derived(this.models.some((m) => m.role === 'teacher' || m.role === 'student'));
  running = $derived(this.runningId !== null || this.starting);
  selectedRun = $derived(this.runs.find((r) => r.id === this.selectedRunId) ?? null);
  canRun = $derived(this.teacher !== null && this.students.length > 0 && !this.running);

  private offs: (() => void)[] = [];

  constructor(private readonly client: Client) {
    this.offs.push(
      client.on('lab.progress', (p) => this.onProgress(p)),
      client.on('models.changed', () => void this.loadModels()),
    );
  }

  /** Stops listening (the view unmounted); a run goes on in the app and is picked up again on return. */
  dispose(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** Runs whose last event was seen, so a late 'lab.run' answer does not revive one. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping that nothing renders, so not reactive on purpose
  private finished = new Set<number>();

  private onProgress(p: LabProgress): void {
    if (p.runId === null) {
      if (p.stage === 'variant') this.variantProgress = p;
      return;
    }
    // A run started elsewhere (the CLI on the same app, another window) is shown too.
    if (this.runningId === null && !FINAL.has(p.stage) && !this.finished.has(p.runId)) this.runningId = p.runId;
    if (p.runId !== this.runningId) return;
    this.progress = p;
    // 'prepare' and 'speed' count models; the other stages count photos or queries of one model.
    if (p.stage === 'prepare') this.overall = { done: 0, total: p.total };
    else if (p.stage === 'speed') this.overall = { done: p.done, total: p.total };
    if (FINAL.has(p.stage)) {
      const id = p.runId;
      this.finished.add(id);
      this.runningId = null;
      this.cancelling = false;
      if (p.stage === 'failed') this.runError = p.message || 'The run failed.';
      void this.loadRuns(id);
    }
  }

  async loadAll(): Promise<void> {
    await Promise.all([this.loadModels(), this.loadRuns(), this.loadDemo()]);
  }

  async loadDemo(): Promise<void> {
    try {
      this.demo = await this.client['library.demoInfo']({});
    } catch {
      this.demo = null; // the demo is an extra; the lab works without it
    }
  }

  /** Measures the demo's trained student against its teacher, with recall on the demo's captions. */
  useDemo(): void {
    if (!this.demo) return;
    this.setTeacher(this.demo.model);
    if (this.demo.student) this.toggleStudent(this.demo.student, true);
    this.labelled = this.demo.labelled;
  }

  async loadModels(): Promise<void> {
    try {
      this.models = await this.client['lab.models']({});
      this.modelsError = null;
      this.pickDefaults();
    } catch (e) {
      this.modelsError = errorMessage(e);
    } finally {
      this.modelsLoaded = true;
    }
  }

  /** A teacher role wins; otherwise the largest installed model. Students: the models made from it, or those with the student role. */
  private pickDefaults(): void {
    const ok = this.installed.map((m) => m.id);
    if (this.teacher && !ok.includes(this.teacher)) this.teacher = null;
    this.students = this.students.filter((s) => ok.includes(s) && s !== this.teacher);
    if (!this.teacher) {
      const byRole = this.installed.find((m) => m.role === 'teacher');
      const biggest = [...this.installed].sort((a, b) => b.bytes - a.bytes)[0];
      this.teacher = (byRole ?? biggest)?.id ?? null;
    }
    if (this.students.length === 0 && this.teacher) {
      this.students = this.installed
        .filter((m) => m.id !== this.teacher && (m.role === 'student' || m.lineage?.parent === this.teacher))
        .map((m) => m.id);
    }
    const others = this.installed.filter((m) => m.id !== this.teacher);
    if (!this.compareTeacher || !ok.includes(this.compareTeacher)) this.compareTeacher = this.teacher;
    if (!this.compareStudent || !ok.includes(this.compareStudent)) this.compareStudent = this.students[0] ?? others[0]?.id ?? null;
    if (!this.variantModel || !ok.includes(this.variantModel)) {
      this.variantModel = this.teacher;
      this.suggestBudget();
    }
  }

  /** A mixed-precision budget to start from: about int8 size plus a margin, a third of the source. */
  suggestBudget(): void {
    const src = this.models.find((m) => m.id === this.variantModel);
    if (src?.bytes) this.variantBudgetMb = Math.max(0.1, Math.round((src.bytes / 1e6) * 0.35 * 10) / 10);
  }

  setTeacher(id: string): void {
    this.teacher = id;
    this.students = this.students.filter((s) => s !== id);
  }

  toggleStudent(id: string, on: boolean): void {
    if (id === this.teacher) return;
    if (!on) this.students = this.students.filter((s) => s !== id);
    else if (!this.students.includes(id)) this.students = [...this.students, id];
  }

  async loadRuns(select?: number): Promise<void> {
    try {
      const runs = await this.client['lab.results']({});
      this.runs = [...runs].sort((a, b) => b.id - a.id);
      this.resultsError = null;
      if (select !== undefined) this.selectedRunId = select;
      else if (this.selectedRunId === null || !this.runs.some((r) => r.id === this.selectedRunId)) {
        this.selectedRunId = this.runs.find((r) => r.results.length > 0)?.id ?? this.runs[0]?.id ?? null;
      }
      const live = this.runs.find((r) => r.state === 'running');
      if (live && this.runningId === null) this.runningId = live.id;
    } catch (e) {
      this.resultsError = errorMessage(e);
    }
  }

  async run(): Promise<void> {
    if (!this.teacher || this.students.length === 0 || this.running) return;
    this.runError = null;
    this.starting = true;
    this.progress = { runId: null, stage: 'prepare', modelId: null, done: 0, total: 1, message: 'Starting…' };
    try {
      const labelled = this.labelled.trim();
      const { runId } = await this.client['lab.run']({
        teacher: this.teacher,
        models: this.students,
        ...(labelled ? { labelled } : {}),
      });
      // The run may already have finished (and its last event been seen) before this answer.
      if (!this.finished.has(runId)) this.runningId = runId;
    } catch (e) {
      this.runError = errorMessage(e);
      this.progress = null;
    } finally {
      this.starting = false;
    }
  }

  async cancel(): Promise<void> {
    if (this.runningId === null) return;
    this.cancelling = true;
    try {
      const { cancelled } = await this.client['lab.cancel']({ runId: this.runningId });
      if (!cancelled) this.cancelling = false;
    } catch (e) {
      this.runError = errorMessage(e);
      this.cancelling = false;
    }
  }

  /** Asks the app for the run as CSV or JSON and hands it to the browser as a download. */
  async exportRun(format: 'csv' | 'json'): Promise<void> {
    const run = this.selectedRun;
    if (!run) return;
    this.exportError = null;
    try {
      const text = await this.client['lab.export']({ runId: run.id, format });
      downloadText(text, `leanlens-lab-run-${run.id}.${format}`, format === 'csv' ? 'text/csv' : 'application/json');
    } catch (e) {
      this.exportError = errorMessage(e);
    }
  }

  async runCompare(): Promise<void> {
    const text = this.compareText.trim();
    if (!this.compareTeacher || !this.compareStudent) {
      this.compareError = 'Choose a teacher and a student to compare.';
      return;
    }
    if (!text) {
      this.compareError = 'Type a query, for example “a dog on the beach”.';
      return;
    }
    this.comparing = true;
    this.compareError = null;
    try {
      this.compare = await this.client['lab.compare']({ teacher: this.compareTeacher, student: this.compareStudent, text, limit: this.compareLimit });
    } catch (e) {
      this.compareError = errorMessage(e);
    } finally {
      this.comparing = false;
    }
  }

  variantSpec(): VariantSpecArgs | string {
    switch (this.variantKind) {
      case 'fp16':
        return { kind: 'fp16' };
      case 'int8':
        return { kind: 'int8', mode: 'weight-only' };
      case 'mixed':
        if (!(this.variantBudgetMb > 0)) return 'Give a size budget above 0 MB.';
        return { kind: 'mixed', budgetMb: this.variantBudgetMb };
      case 'lowrank':
        if (!Number.isInteger(this.variantRank) || this.variantRank < 1) return 'Give a whole rank of 1 or more.';
        return { kind: 'lowrank', rank: this.variantRank };
    }
  }

  async makeVariant(): Promise<void> {
    if (!this.variantModel || this.variantBusy) return;
    const spec = this.variantSpec();
    if (typeof spec === 'string') {
      this.variantError = spec;
      return;
    }
    this.variantBusy = true;
    this.variantError = null;
    this.madeVariant = null;
    this.variantProgress = { runId: null, stage: 'variant', modelId: this.variantModel, done: 0, total: 1, message: 'Starting…' };
    try {
      const made = await this.client['lab.variant']({ model: this.variantModel, spec });
      this.madeVariant = made;
      await this.loadModels();
      // Made to be measured: put it in the next benchmark when it descends from the teacher.
      if (made.lineage?.parent === this.teacher) this.toggleStudent(made.id, true);
    } catch (e) {
      this.variantError = errorMessage(e);
    } finally {
      this.variantBusy = false;
      this.variantProgress = null;
    }
  }

  /** "Use this model for search": the app switches; its own state reloads the models. */
  async use(id: string, after?: () => Promise<unknown>): Promise<void> {
    this.useBusy = id;
    this.useError = null;
    try {
      await this.client['models.use']({ id });
      await Promise.all([this.loadModels(), after?.()]);
    } catch (e) {
      this.useError = { id, message: errorMessage(e) };
    } finally {
      this.useBusy = null;
    }
  }
}
