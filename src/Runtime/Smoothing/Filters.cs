using System;

namespace HeadTracking.Runtime.Smoothing;

/// <summary>A filter over one noisy signal sampled at uneven times. Allocation-free; one thread.</summary>
internal interface IScalarFilter
{
    /// <summary>Feeds a sample taken <paramref name="dtSeconds"/> after the previous one; returns the filtered value.</summary>
    double Filter(double value, double dtSeconds);

    /// <summary>Forgets the past: the next sample passes through unchanged.</summary>
    void Reset();
}

/// <summary>No smoothing.</summary>
internal sealed class NoFilter : IScalarFilter
{
    public double Filter(double value, double dtSeconds) => value;

    public void Reset()
    {
    }
}

/// <summary>Exponentially weighted moving average: x̂ = a·x + (1 - a)·x̂prev.</summary>
internal sealed class EwmaFilter(double alpha) : IScalarFilter
{
    private bool _started;
    private double _last;

    public double Alpha { get; } = alpha is > 0 and <= 1 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), "EWMA alpha must be in (0, 1]");

    public double Filter(double value, double dtSeconds)
    {
        _last = _started ? (Alpha * value) + ((1 - Alpha) * _last) : value;
        _started = true;
        return _last;
    }

    public void Reset() => _started = false;
}

/// <summary>
/// The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cutoff rises
/// with speed, so a still head is steady and a moving one is not lagged. tau = 1/(2·pi·fc),
/// a = 1/(1 + tau/Te); the derivative is smoothed at <see cref="DerivativeCutoff"/>, and
/// fc = <see cref="MinCutoff"/> + <see cref="Beta"/>·|dx̂|. Raise beta until fast moves stop
/// lagging; lower min_cutoff until a still head stops jittering.
/// </summary>
internal sealed class OneEuroFilter : IScalarFilter
{
    private bool _started;
    private double _x, _dx;

    public OneEuroFilter(double minCutoff = 1.0, double beta = 0.0, double derivativeCutoff = 1.0)
    {
        if (!(minCutoff > 0) || !(derivativeCutoff > 0) || !(beta >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(minCutoff), $"One Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0 (got {minCutoff}, {derivativeCutoff}, {beta})");
        }

        MinCutoff = minCutoff;
        Beta = beta;
        DerivativeCutoff = derivativeCutoff;
    }

    public double MinCutoff { get; }

    public double Beta { get; }

    public double DerivativeCutoff { get; }

    public double Filter(double value, double dtSeconds)
    {
        if (!_started || !(dtSeconds > 0))
        {
            _started = true;
            _x = value;
            _dx = 0;
            return value;
        }

        double dx = (value - _x) / dtSeconds;
        _dx += Alpha(DerivativeCutoff, dtSeconds) * (dx - _dx);
        double cutoff = MinCutoff + (Beta * Math.Abs(_dx));
        _x += Alpha(cutoff, dtSeconds) * (value - _x);
        return _x;
    }

    public void Reset() => _started = false;

    private static double Alpha(double cutoff, double dt)
    {
        double tau = 1.0 / (2 * Math.PI * cutoff);
        return 1.0 / (1.0 + (tau / dt));
    }
}

/// <summary>
/// A dead band after another filter (hysteresis, "backlash"), as opentrack's filters have one: the
/// output stays where it is while the inner filter's value stays within <see cref="Band"/> of it,
/// and past the band it follows at the band's distance, so it never jumps. A still head whose
/// smoothed noise stays inside the band reads exactly still; a moving one lags by at most the band.
/// </summary>
internal sealed class HoldFilter : IScalarFilter
{
    private readonly IScalarFilter _inner;
    private bool _started;
    private double _held;

    public HoldFilter(IScalarFilter inner, double band)
    {
        if (!(band >= 0) || double.IsInfinity(band))
        {
            throw new ArgumentOutOfRangeException(nameof(band), band, "a hold band must be finite and at least 0");
        }

        _inner = inner;
        Band = band;
    }

    /// <summary>How far the inner filter's value may move from the output before the output follows.</summary>
    public double Band { get; }

    public double Filter(double value, double dtSeconds)
    {
        double x = _inner.Filter(value, dtSeconds);
        if (!_started)
        {
            _started = true;
            _held = x;
        }
        else if (x - _held > Band)
        {
            _held = x - Band;
        }
        else if (_held - x > Band)
        {
            _held = x + Band;
        }

        return _held;
    }

    public void Reset()
    {
        _inner.Reset();
        _started = false;
    }
}
