import { Worker, type Transferable } from 'node:worker_threads';

/**
 * One worker thread that answers requests in the order they were sent; the worker replies
 * `{ok: true, result}` or `{ok: false, error}` to each. The thread is referenced only while a
 * request is pending: awaiting a reply must keep the process alive (unreferenced, Node exits
 * mid-run when nothing else is pending), and an idle worker must not. close() terminates it.
 */
export class WorkerQueue<Request, Result> {
  private worker: Worker | null;
  private queue: Array<{ resolve: (r: Result) => void; reject: (e: Error) => void }> = [];

  /** `name` prefixes the worker's error messages; `workerData` is handed to the worker at start. */
  constructor(script: URL, private readonly name: string, workerData?: unknown) {
    this.worker = new Worker(script, { workerData });
    this.worker.on('message', (msg: { ok: boolean; result?: Result; error?: string }) => {
      const next = this.queue.shift();
      if (this.queue.length === 0) this.worker?.unref();
      if (!next) return;
      if (msg.ok) next.resolve(msg.result!);
      else next.reject(new Error(`${this.name}: ${msg.error}`));
    });
    this.worker.on('error', (err) => {
      for (const q of this.queue.splice(0)) q.reject(err);
    });
    this.worker.unref();
  }

  /** Send a request; resolves with the worker's reply to it. */
  run(req: Request, transfer: readonly Transferable[] = []): Promise<Result> {
    if (!this.worker) return Promise.reject(new Error(`${this.name} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.worker!.ref();
      this.worker!.postMessage(req, transfer);
    });
  }

  /** Stop the thread; resolves once it has exited. Requests still pending stay unanswered. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // terminate() resolves on the thread's exit event, which Node does not wait for once the thread
    // is unreferenced; a reply delivered during the close used to unreference it (the queue had
    // emptied), and with nothing else pending Node exited first: code 13, an unsettled await.
    worker.ref();
    await worker.terminate();
  }
}
