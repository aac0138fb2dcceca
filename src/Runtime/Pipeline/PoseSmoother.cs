using HeadTracking.Runtime.Smoothing;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// From a raw pose to what the game reads: recentring (the pose at the last
/// <see cref="Recenter"/> becomes zero), a filter per axis (One Euro, EWMA or none, then the hold
/// band) and the axis mapping (invert, scale, dead zone). Allocates nothing per frame.
/// </summary>
internal sealed class PoseSmoother
{
    private readonly IScalarFilter[] _filters = new IScalarFilter[6]; // X, Y, Z, yaw, pitch, roll
    private readonly AxisMapping[] _axes;
    private HeadPose _zero;
    private volatile bool _recenter;

    public PoseSmoother(HeadTrackerOptions options)
    {
        _axes = options.Axes;
        for (int i = 0; i < 6; i++)
        {
            IScalarFilter filter = options.Filter switch
            {
                FilterKind.Ewma => new EwmaFilter(options.EwmaAlpha),
                FilterKind.None => new NoFilter(),
                _ => new OneEuroFilter(options.MinCutoff, options.Beta, options.DerivativeCutoff),
            };
            double hold = i < 3 ? options.PositionHoldCm : options.RotationHoldDegrees;
            _filters[i] = options.Filter == FilterKind.None || hold == 0 ? filter : new HoldFilter(filter, hold);
        }
    }

    /// <summary>Makes the next raw pose the zero of every axis. Any thread.</summary>
    public void Recenter() => _recenter = true;

    /// <summary>Recentres <paramref name="raw"/> in place and returns it filtered and mapped;
    /// <paramref name="dt"/> is the seconds since the last frame.</summary>
    public HeadPose Smooth(ref HeadPose raw, double dt)
    {
        if (_recenter)
        {
            _zero = raw;
            _recenter = false;
        }

        raw.X -= _zero.X;
        raw.Y -= _zero.Y;
        raw.Z -= _zero.Z;
        raw.Yaw -= _zero.Yaw;
        raw.Pitch -= _zero.Pitch;
        raw.Roll -= _zero.Roll;
        AxisMapping[] a = _axes;
        return new HeadPose
        {
            X = a[0].Apply(_filters[0].Filter(raw.X, dt)),
            Y = a[1].Apply(_filters[1].Filter(raw.Y, dt)),
            Z = a[2].Apply(_filters[2].Filter(raw.Z, dt)),
            Yaw = a[3].Apply(_filters[3].Filter(raw.Yaw, dt)),
            Pitch = a[4].Apply(_filters[4].Filter(raw.Pitch, dt)),
            Roll = a[5].Apply(_filters[5].Filter(raw.Roll, dt)),
        };
    }
}
