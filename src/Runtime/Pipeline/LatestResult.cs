using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// The newest result, written by one thread and read by any number without locks or waiting
/// (a seqlock): the version is odd while the writer copies, and a reader that saw it change
/// copies again instead of keeping half a result. Allocates nothing.
/// </summary>
internal sealed class LatestResult
{
    private readonly TrackingResult _latest = new();
    private long _version; // even: _latest is whole; odd: being written

    /// <summary>Replaces the newest result with a copy of <paramref name="result"/>. One writer thread.</summary>
    public void Publish(TrackingResult result)
    {
        Interlocked.Increment(ref _version);
        _latest.CopyFrom(result);
        Interlocked.Increment(ref _version);
    }

    /// <summary>Copies the newest result into <paramref name="into"/> (made on the first call when
    /// null); false until a result was published. Any thread; never blocks.</summary>
    public bool TryRead([NotNull] ref TrackingResult? into)
    {
        into ??= new TrackingResult();
        while (true)
        {
            long before = Volatile.Read(ref _version);
            if ((before & 1) != 0)
            {
                Thread.SpinWait(8);
                continue;
            }

            into.CopyFrom(_latest);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _version) == before)
            {
                return into.Sequence > 0;
            }
        }
    }
}
