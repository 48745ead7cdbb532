"""Checkpoints through Ray's object store, and their references as bytes for a connection.

Under ``checkpoint_sync="driver"`` a checkpoint travels between a node and the driver as one object of Ray's
object store (node to node, as Ray moves objects); the connection between them (:mod:`tune_ray.wire`)
carries only its reference. Memory stays near one copy per side: the archive is packed into an anonymous
temporary file and put from a memory map of it (the object store's copy is the only one in memory), and
read back from the object store's shared memory without a copy (:func:`fetch`: a ``pickle.PickleBuffer``
object comes back as a buffer over it).

A reference sent outside Ray's own calls is "out of band": Ray pins its object for the sending process's
whole life (its answer to not knowing when the receiver is done), which would keep every checkpoint of an
actor or every launch's checkpoint of the driver. :func:`share` takes that pin back; the sender keeps its
ObjectRef until the receiver is done instead (the actor until the driver's answer to the result, the
driver until the launch's first message), and the object is freed once both dropped theirs. The owner is
the process that put it: an object whose owner dies before the other side fetched it is lost
(``OwnerDiedError``), as the message that carried it would be.

A driver connected through Ray Client (``ray://``) has no object store of its own and cannot resolve such
a reference: :func:`fetch_shared` and :func:`put_shared` then go through a small task in the cluster, which
reads the object for the driver (a copy, which Ray Client streams to the driver) or shares the reference of
an object the driver put.
"""

from __future__ import annotations

import mmap
import pickle
import tempfile
from typing import Any

from tune_ray import transfer


class BadReference(ValueError):
    """Bytes that are not an object reference written by :func:`share`."""


def put_directory(directory: str, temp_dir: str | None = None) -> Any:
    """Pack ``directory`` (:func:`tune_ray.transfer.pack_into`) into a new object of the object store; its
    ObjectRef. The archive is written to an anonymous file in ``temp_dir`` (default: the temp dir) first."""
    import ray

    with tempfile.TemporaryFile(dir=temp_dir) as file:
        size = transfer.pack_into(directory, file)
        file.flush()
        mapped = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ)
        buffer = pickle.PickleBuffer(mapped)
        try:
            return ray.put(buffer)
        finally:
            buffer.release()
            try:
                mapped.close()
            except BufferError:  # a view of it is still referenced: unmapped when that goes
                pass


def fetch(ref: Any) -> memoryview:
    """The bytes of the object ``ref`` (from :func:`put_directory`), read in place where Ray allows it."""
    import ray

    return memoryview(ray.get(ref))


def share(ref: Any) -> bytes:
    """``ref`` as bytes for another process (:func:`receive`), without Ray's pin for the life of this one."""
    import ray

    data: bytes = ray.cloudpickle.dumps(ref)  # out of band: Ray adds a local reference it never removes
    worker: Any = ray._private.worker.global_worker
    worker.core_worker.remove_object_ref_reference(ref)
    return data


def receive(data: Any) -> Any:
    """The ObjectRef that :func:`share` wrote (registered with its owner, so ``ray.get`` finds it)."""
    import ray

    if not isinstance(data, bytes):
        raise BadReference(f"an object reference is sent as bytes, not {type(data).__name__}")
    try:
        ref = pickle.loads(data)
    except Exception as exc:
        raise BadReference(f"not an object reference: {type(exc).__name__}: {exc}") from None
    if not isinstance(ref, ray.ObjectRef):
        raise BadReference(f"not an object reference but {type(ref).__name__}")
    return ref


def fetch_shared(data: bytes) -> memoryview:
    """(The driver.) The bytes of the object whose reference :func:`share` wrote as ``data``."""
    import ray

    if not _client_mode():
        return fetch(receive(data))
    return memoryview(ray.get(_task("_relay").remote(data)))


def put_shared(directory: str) -> tuple[Any, bytes]:
    """(The driver.) ``directory`` as a new object (:func:`put_directory`): its ref, to keep until the other
    side has it, and the ref as bytes for it."""
    import ray

    ref = put_directory(directory)
    if not _client_mode():
        return ref, share(ref)
    shared: bytes = ray.get(_task("_share_inside").remote([ref]))  # nested: the task gets the ref itself
    return ref, shared


def _relay(data: bytes) -> bytes:
    """(A task in the cluster, for a Ray Client driver.) The object's bytes, as the task's result (as bytes:
    Ray Client 2.60 never delivers a result that holds a ``PickleBuffer``)."""
    buffer = fetch(receive(data))
    try:
        return bytes(buffer)
    finally:
        buffer.release()


def _share_inside(refs: list[Any]) -> bytes:
    """(A task in the cluster, for a Ray Client driver.) :func:`share` of the driver's object."""
    return share(refs[0])


def _client_mode() -> bool:
    from ray.util.client import ray as client

    return bool(client.is_connected())


_TASKS: dict[str, Any] = {}


def _task(name: str) -> Any:
    """The remote function of ``name`` (made once per process; it holds no CPU)."""
    found = _TASKS.get(name)
    if found is None:
        import ray

        found = _TASKS[name] = ray.remote(num_cpus=0, max_retries=0)(globals()[name])
    return found
