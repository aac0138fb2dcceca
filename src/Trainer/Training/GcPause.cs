using System;
using System.Runtime;
using System.Threading;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// No garbage collection while a training step runs TorchSharp code. Why: TorchSharp 0.107 turns
/// numbers into native <c>Scalar</c>s implicitly (<c>a + b</c> is <c>add(b, alpha: 1)</c>) and frees
/// them in a finalizer; nothing keeps such a temporary alive during the native call that uses it,
/// so a collection in that window lets the finalizer thread free the Scalar while libtorch reads
/// it. A default-model run died of exactly that ("Scalar::toFloat ... Expected false to be true"
/// inside THSTensor_add, epoch 5 of 10); it can also silently corrupt a step. Inside the region
/// nothing is collected, so nothing in use is finalized; between steps every temporary is dead,
/// and the collection that opens the next region frees them safely.
/// </summary>
internal sealed class GcPause : IDisposable
{
    /// <summary>Room for one step's managed allocations, the prefetch workers' batches included.</summary>
    private const long Budget = 256L << 20;

    private static long s_interrupted;
    private readonly bool _started;

    private GcPause()
    {
        try
        {
            _started = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
        }
        catch (InvalidOperationException)
        {
            _started = false; // already in a region (nested use): the outer one covers this step
        }
        catch (ArgumentOutOfRangeException)
        {
            // This runtime's GC cannot reserve the budget (a small heap limit): the step runs
            // unprotected, and is counted so the log says so.
            _started = false;
            Interlocked.Increment(ref s_interrupted);
        }
    }

    /// <summary>Steps during which a collection could happen anyway (the budget ran out, or could
    /// not be reserved); the log shows it when not zero.</summary>
    public static long Interrupted => Interlocked.Read(ref s_interrupted);

    /// <summary>Starts a region; dispose it when the step's native work is done.</summary>
    public static GcPause Begin() => new();

    public void Dispose()
    {
        if (!_started)
        {
            return;
        }

        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            try
            {
                GC.EndNoGCRegion();
                return;
            }
            catch (InvalidOperationException)
            {
                // A collection was induced or the budget was exceeded: counted below.
            }
        }

        Interlocked.Increment(ref s_interrupted);
    }
}
