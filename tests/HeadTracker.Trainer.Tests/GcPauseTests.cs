using System;
using System.Collections.Generic;
using System.Runtime;
using HeadTracking.Trainer.Training;

namespace HeadTracking.Trainer.Tests;

/// <summary>No-GC regions are process-wide: these run alone, not beside tests that allocate.</summary>
[CollectionDefinition(nameof(GcPauseTests), DisableParallelization = true)]
public sealed class GcPauseCollection
{
}

[Collection(nameof(GcPauseTests))]
public class GcPauseTests
{
    [Fact]
    public void Nothing_is_collected_inside_a_pause_and_collection_resumes_after_it()
    {
        long interrupted = GcPause.Interrupted;
        int gen0;
        using (GcPause.Begin())
        {
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            gen0 = GC.CollectionCount(0);
            var kept = new List<byte[]>();
            for (int i = 0; i < 48; i++)
            {
                kept.Add(new byte[1 << 20]); // what a step's batches take, and more
            }

            for (int i = 0; i < 200_000; i++)
            {
                _ = new object(); // what a step's temporary tensors and Scalars take, and more
            }

            Assert.Equal(gen0, GC.CollectionCount(0));
            GC.KeepAlive(kept);
        }

        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Equal(interrupted, GcPause.Interrupted);
        GC.Collect();
        Assert.True(GC.CollectionCount(0) > gen0, "collections happen again after the pause");
    }
}
