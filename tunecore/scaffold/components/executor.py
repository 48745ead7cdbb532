"""An executor that runs each trial in a fresh process: the whole contract in one small file."""

import multiprocessing
from multiprocessing.connection import wait

import cloudpickle
from tunecore.executors import Action, Executor, Outcome, ResourcePool, Resources, TrialRunner, requested_resources


class PipeChannel:
    """The trial's side: a result goes up the pipe; its answer is awaited at the next report()."""

    def __init__(self, conn):
        self.conn, self.awaiting, self.decision, self.stop = conn, False, Action.CONTINUE, False

    def action(self):
        while self.awaiting or self.conn.poll():  # the answer to the last result, and any stop request
            kind, value = self.conn.recv()
            if kind == "answer":
                self.awaiting, self.decision = False, Action(value)
            else:
                self.stop = True
        return self.decision

    def send(self, trial_id, result, checkpoint):
        self.conn.send(("result", result, checkpoint))
        self.awaiting = not result["done"]  # a final result gets no answer
        return Action.STOP if self.stop else Action.CONTINUE


def run_trial(payload, launch, conn):
    """The trial's process: run it with the core's runner, then say how it ended."""
    outcome = TrialRunner(cloudpickle.loads(payload)).run(launch, PipeChannel(conn))
    conn.send(("end", outcome.kind.value, outcome.error))


def tell(conn, message):
    try:
        conn.send(message)
    except OSError:  # the process just died: process() reports it
        pass


class ExampleExecutor(Executor):
    """Runs each trial in a new process; trials run at once as far as ``num_cpus`` allows."""

    def __init__(self, num_cpus=2, start_method=None):
        self.pool = ResourcePool({"cpu": num_cpus}, "the example executor", "lower the request or raise num_cpus")
        self.context = multiprocessing.get_context(start_method)  # None: the platform's default
        self.trials, self.stopping = {}, set()  # trial_id -> (process, connection, launch)

    def start(self, trainable, handler):
        self.pool.check_satisfiable(requested_resources(trainable))  # ResourceError before any launch
        self.payload, self.handler = cloudpickle.dumps(trainable), handler

    def capacity(self, resources):
        return self.pool.how_many(Resources.coerce(resources))

    def launch(self, launch):
        self.pool.acquire(launch.resources)
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=run_trial, args=(self.payload, launch, theirs), daemon=True)
        process.start()
        theirs.close()
        self.trials[launch.trial_id] = (process, ours, launch)

    def process(self, timeout):
        trial_of = {conn: trial_id for trial_id, (_, conn, _) in self.trials.items()}
        for conn in wait(list(trial_of), timeout):
            trial_id = trial_of[conn]
            try:
                while trial_id in self.trials and conn.poll():
                    self._handle(trial_id, conn, conn.recv())
            except (EOFError, OSError):  # the process is gone without saying how its trial ended
                process = self.trials[trial_id][0]
                process.join()
                self._end(trial_id, Outcome.WORKER_DIED, f"its process died (exit code {process.exitcode})")

    def _handle(self, trial_id, conn, message):
        if message[0] == "end":
            self._end(trial_id, Outcome(message[1]), message[2])
            return
        _, result, checkpoint = message
        decision = self.handler.on_result(trial_id, result, checkpoint)
        if not result["done"] and trial_id in self.trials:  # stop() from inside on_result: this result is the last
            action = Action.STOP if trial_id in self.stopping else decision.action
            tell(conn, ("answer", action.value))

    def stop(self, trial_id, force=False):
        if trial_id not in self.trials:
            return
        process, conn, _ = self.trials[trial_id]
        if force:
            process.kill()
            process.join()
            self._end(trial_id, Outcome.STOPPED, None)
        elif trial_id not in self.stopping:
            self.stopping.add(trial_id)
            tell(conn, ("stop", None))

    def _end(self, trial_id, outcome, error):
        process, conn, launch = self.trials.pop(trial_id)
        self.stopping.discard(trial_id)
        process.join()
        conn.close()
        self.pool.release(launch.resources)
        self.handler.on_trial_end(trial_id, outcome, error)

    def running(self):
        return len(self.trials)

    def shutdown(self):  # trials still running are abandoned: no on_trial_end
        for process, conn, _ in self.trials.values():
            process.kill()
            process.join()
            conn.close()
        self.trials.clear()
