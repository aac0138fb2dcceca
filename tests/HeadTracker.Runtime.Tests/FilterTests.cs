using System;
using System.Linq;
using HeadTracker.Runtime.Smoothing;

namespace HeadTracker.Runtime.Tests;

public class FilterTests
{
    private const double Dt = 1.0 / 60; // a 60 fps camera

    [Fact]
    public void A_step_converges()
    {
        var f = new OneEuroFilter(minCutoff: 1, beta: 0.05);
        f.Filter(0, Dt);
        double y = 0;
        for (int i = 0; i < 60; i++)
        {
            y = f.Filter(10, Dt);
        }

        Assert.InRange(y, 9.9, 10.0); // within 1% of the step after one second
    }

    [Theory]
    // beta 0: an EWMA with a = 0.095 at 60 Hz, so the noise std falls to sqrt(a/(2-a)) = 0.22.
    [InlineData(0.0, 1.0, 0.25)]
    // beta 0.05 on half a degree of noise: the noisy speed lifts the cutoff a little.
    [InlineData(0.05, 0.5, 0.35)]
    public void Jitter_on_a_still_head_drops_by_the_stated_factor(double beta, double noiseDegrees, double bound)
    {
        var rng = new Random(3);
        double[] noise = [.. Enumerable.Range(0, 6000).Select(_ => noiseDegrees * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))];
        var f = new OneEuroFilter(minCutoff: 1, beta: beta);
        double[] filtered = [.. noise.Select(v => f.Filter(v, Dt))];
        double Std(double[] a) => Math.Sqrt(a.Skip(100).Select(v => v * v).Average());
        double ratio = Std(filtered) / Std(noise);
        Assert.True(ratio < bound, $"jitter only fell to {ratio:P0} of the input (bound {bound:P0})");
    }

    [Fact]
    public void Lag_at_100_degrees_per_second_is_bounded_and_beta_shortens_it()
    {
        static double Lag(IScalarFilter f)
        {
            double lag = 0;
            for (int i = 0; i <= 120; i++)
            {
                double truth = 100 * i * Dt; // degrees
                lag = truth - f.Filter(truth, Dt);
            }

            return lag;
        }

        double fast = Lag(new OneEuroFilter(minCutoff: 1, beta: 0.05));
        double slow = Lag(new OneEuroFilter(minCutoff: 1, beta: 0));
        // fc = 1 + 0.05 * 100 = 6 Hz: tau = 26.5 ms, about 2.7 degrees behind; with beta 0, 1 Hz: 16 degrees.
        Assert.InRange(fast, 0, 4);
        Assert.InRange(slow, 12, 20);
    }

    [Fact]
    public void Ewma_and_none_do_what_they_say_and_reset_forgets()
    {
        var e = new EwmaFilter(0.5);
        Assert.Equal(4, e.Filter(4, Dt));
        Assert.Equal(6, e.Filter(8, Dt));
        e.Reset();
        Assert.Equal(1, e.Filter(1, Dt));
        Assert.Equal(7, new NoFilter().Filter(7, Dt));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EwmaFilter(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneEuroFilter(minCutoff: 0));
    }

    [Fact]
    public void Filtering_allocates_nothing()
    {
        var f = new OneEuroFilter(1, 0.05);
        f.Filter(1, Dt);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            f.Filter(i, Dt);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
