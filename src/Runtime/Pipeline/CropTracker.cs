using System;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// Two-stage mode: the square crop of the frame the model sees next. It moves only when the head
/// has really moved: the head's centre must leave a dead band around the crop's centre (a share
/// of the side), or its size must change by more than a share, before the crop is placed anew
/// on the newest observation. Without the dead band, the model's noise on one frame moves the
/// next frame's crop, which changes the model's input, which moves the result again: a still head
/// shakes, and byte-identical frames give different results. With it, once the crop has settled,
/// identical frames give identical results.
/// </summary>
public sealed class CropTracker
{
    private readonly float _deadband, _resize;

    /// <param name="deadband">How far (a share of the side) the head's centre may drift from the
    /// crop's centre before the crop follows it; 0 follows every frame.</param>
    /// <param name="resize">How much (a share) the wanted side may differ from the crop's before
    /// the crop takes it; 0 follows every frame.</param>
    public CropTracker(double deadband = 0.04, double resize = 0.08)
    {
        if (!(deadband is >= 0 and < 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(deadband), deadband, "the crop's dead band must be in [0, 0.5)");
        }

        if (!(resize is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(resize), resize, "the crop's resize band must be in [0, 1)");
        }

        _deadband = (float)deadband;
        _resize = (float)resize;
    }

    /// <summary>The crop's centre, in frame pixels.</summary>
    public float X { get; private set; }

    /// <summary>See <see cref="X"/>.</summary>
    public float Y { get; private set; }

    /// <summary>The crop's side in frame pixels; 0 when there is no crop (the head is lost).</summary>
    public float Side { get; private set; }

    /// <summary>Whether there is a crop to run the model on.</summary>
    public bool Active => Side > 0;

    /// <summary>How many times the crop moved or resized since it was last placed by
    /// <see cref="Place"/> (a measure of how often the model's input changes).</summary>
    public int Moves { get; private set; }

    /// <summary>Puts the crop where a detector found the head (no dead band: a new start).</summary>
    public void Place(float x, float y, float side)
    {
        X = x;
        Y = y;
        Side = side;
        Moves = 0;
    }

    /// <summary>The head was lost: no crop until the next <see cref="Place"/>.</summary>
    public void Lose() => Side = 0;

    /// <summary>The model saw the head centred at (<paramref name="x"/>, <paramref name="y"/>)
    /// wanting a crop of <paramref name="side"/> (NaN or 0: keep the side); moves the crop only past the
    /// dead bands. Returns whether it moved.</summary>
    public bool Follow(float x, float y, float side)
    {
        if (!Active || !float.IsFinite(x) || !float.IsFinite(y))
        {
            return false;
        }

        float limit = _deadband * Side;
        bool move = Math.Abs(x - X) > limit || Math.Abs(y - Y) > limit;
        bool resize = float.IsFinite(side) && side > 0 && Math.Abs(side - Side) > _resize * Side;
        if (!move && !resize)
        {
            return false;
        }

        // Past a band, take the observation whole: a partial step would leave the head off centre
        // and call for another move on the next frame.
        X = x;
        Y = y;
        if (resize)
        {
            Side = side;
        }

        Moves++;
        return true;
    }
}
