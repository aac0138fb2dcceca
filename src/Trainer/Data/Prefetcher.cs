using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;

namespace HeadTracking.Trainer.Data;

/// <summary>
/// Produces items 0..count-1 on worker threads, up to <c>depth</c> ahead of the consumer, and
/// hands them out in order: the trainer takes batch i while batches i+1.. are being built.
/// Items depend only on their index, so the sequence is the same whatever the timing.
/// <see cref="WaitTime"/> says how long the consumer waited, the measure of whether data keeps up.
/// Enumerate once, from one thread.
/// </summary>
internal sealed class Prefetcher<T> : IEnumerable<T>
{
    private readonly int _count;
    private readonly Func<int, T> _produce;
    private readonly int _depth;
    private readonly Stopwatch _waiting = new();

    public Prefetcher(int count, Func<int, T> produce, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _count = count;
        _produce = produce;
        _depth = depth;
    }

    /// <summary>Total time the consumer spent blocked waiting for an item.</summary>
    public TimeSpan WaitTime => _waiting.Elapsed;

    public IEnumerator<T> GetEnumerator()
    {
        var window = new Queue<Task<T>>();
        int next = 0;
        try
        {
            for (int i = 0; i < _count; i++)
            {
                while (next < _count && window.Count < _depth)
                {
                    int index = next++;
                    window.Enqueue(Task.Run(() => _produce(index)));
                }

                Task<T> task = window.Dequeue();
                if (!task.IsCompleted)
                {
                    _waiting.Start();
                    ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
                    _waiting.Stop();
                }

                yield return task.GetAwaiter().GetResult();
            }
        }
        finally
        {
            // A consumer that stops early (a few validation batches for results.png, --max-batches)
            // leaves items being built ahead: wait for them and release them here. Left running,
            // one could still be in OpenCV when the process exits and the native libraries are torn
            // down under it, which is the likely end of a trainer process that died after "Done" in
            // one test run on a busy machine (SIGSEGV on a thread-pool worker; the last thing it did
            // was results.png, which stops the validation batches after the first).
            foreach (Task<T> pending in window)
            {
                try
                {
                    if (pending.GetAwaiter().GetResult() is IDisposable d)
                    {
                        d.Dispose();
                    }
                }
                catch (Exception) when (pending.IsFaulted || pending.IsCanceled)
                {
                    // Not asked for: the consumer never sees its error.
                }
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
