using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// <c>train --steady W</c>: a term that asks the outputs a tracker turns into motion (the pose and
/// the head centre) not to move when only camera noise changes. A quarter of each training batch
/// goes through the network a second time with Gaussian noise added to its pixels (its sigma drawn
/// for each item from 0 to <see cref="MaxSigma"/> grey levels, each channel and pixel its own draw),
/// in the same forward pass as the batch, so BatchNorm sees one batch; the term is the change of
/// those items' outputs from the clean ones', which it does not move (they learn from the labels),
/// measured as the heads' own losses measure an error, times the weight. The learner applies it
/// once the body unfreezes: while the backbone is frozen it is BlazeFace's as imported and the new
/// heads start at random, so their change under noise says nothing yet (a first form of the term,
/// applied from the first batch, pushed a head centre into saturation). Validation reports the
/// change at sigma <see cref="ValidSigma"/> in degrees and pixels (<c>steady_deg</c>,
/// <c>steady_px</c>, root mean square over the validation items given a copy) so each epoch shows
/// how much a still face would shake.
/// </summary>
internal sealed class Steadiness
{
    /// <summary>The noise validation measures at, in grey levels: the camera-like noise of
    /// <c>headtracker-bench stability</c>.</summary>
    public const double ValidSigma = 2;

    private const double DegreesPerRadian = 180 / Math.PI;
    private readonly int[] _pose, _center;
    private readonly float[] _perGreyLevel;
    private readonly int _size;

    public Steadiness(ModelConfig config, Preprocessing pre, double weight, double maxSigma)
    {
        if (!double.IsFinite(weight) || weight < 0 || !double.IsFinite(maxSigma) || maxSigma <= 0)
        {
            throw new ArgumentException($"steadiness: weight {weight} and sigma {maxSigma} must be finite, the weight at least 0 and the sigma above 0");
        }

        _pose = Indices(config, OutputKinds.Pose);
        _center = Indices(config, OutputKinds.CenterHead);
        if (_pose.Length + _center.Length == 0)
        {
            throw new ArgumentException("option --steady: the model has neither a pose nor a center head, whose outputs it keeps steady");
        }

        Weight = weight;
        MaxSigma = maxSigma;
        _size = pre.Width;
        _perGreyLevel = [.. pre.Std.Select(s => pre.Scale / s)];
    }

    public double Weight { get; }

    /// <summary>The largest noise a training item gets, in grey levels (0-255).</summary>
    public double MaxSigma { get; }

    /// <summary>How many items of a batch of <paramref name="n"/> get a noisy copy: a quarter, at least one.</summary>
    public static int Copies(int n) => Math.Max(1, n / 4);

    /// <summary>The batch followed by noisy copies of its first <paramref name="k"/> items. Each
    /// copy's sigma is <paramref name="sigma"/> grey levels, or drawn from 0 to <see cref="MaxSigma"/>
    /// when null; <paramref name="seed"/> fixes the draw.</summary>
    public Tensor WithNoisyCopies(Tensor images, int k, long seed, double? sigma = null)
    {
        using var g = new Generator((ulong)seed);
        long[] shape = [k, .. images.shape.Skip(1)];
        Tensor first = images.narrow(0, 0, k);
        Tensor sigmas = sigma is { } s ? full([k, 1, 1, 1], s) : rand([k, 1, 1, 1], generator: g) * MaxSigma;
        Tensor perChannel = tensor(_perGreyLevel, [1, 3, 1, 1]);
        Tensor noise = randn(shape, generator: g) * sigmas * perChannel;
        return cat([images, first + noise], 0);
    }

    /// <summary>The change of the <paramref name="k"/> noisy copies after the first
    /// <paramref name="n"/> outputs from the clean items they copy, which get no gradient from it:
    /// as a loss in the units of the heads' own losses (the squared difference of the pose's 3x3
    /// matrices, summed; the head centre's mean squared difference in [-1, 1]), and as the mean
    /// squared change in degrees (the angle between the two rotations, for small angles) and in
    /// pixels of the input.</summary>
    public (Tensor Loss, double Degrees2, double Pixels2) Change(Tensor[] outputs, int n, int k)
    {
        Tensor loss = zeros(1);
        double degrees2 = 0, pixels2 = 0;
        foreach (int h in _pose)
        {
            // |R1 - R2|^2 (Frobenius) = 4 (1 - cos a), about 2 a^2 for a small angle a.
            Tensor d = outputs[h].narrow(0, n, k) - outputs[h].narrow(0, 0, k).detach();
            Tensor frobenius2 = d.pow(2).sum([1, 2]).mean();
            loss = loss + frobenius2;
            degrees2 += frobenius2.item<float>() / 2 * DegreesPerRadian * DegreesPerRadian;
        }

        foreach (int h in _center)
        {
            Tensor d = outputs[h].narrow(0, n, k) - outputs[h].narrow(0, 0, k).detach();
            Tensor mse = d.pow(2).mean([1]).mean();
            loss = loss + mse;
            pixels2 += mse.item<float>() * 2 * (_size / 2.0) * (_size / 2.0);
        }

        return (loss.squeeze(), degrees2, pixels2);
    }

    /// <summary>The first <paramref name="n"/> of each output: the batch's own items.</summary>
    public static Tensor[] Labelled(Tensor[] outputs, int n) => [.. outputs.Select(o => o.narrow(0, 0, n))];

    private static int[] Indices(ModelConfig config, string kind) =>
        [.. config.Heads.Select((h, i) => (h.Kind, i)).Where(p => p.Kind == kind).Select(p => p.i)];

    /// <summary>Root mean square change over validation batches, for the epoch's metrics.</summary>
    public sealed class Meter
    {
        private double _deg2, _px2;
        private int _items;

        public void Add(double degrees2, double pixels2, int items)
        {
            _deg2 += degrees2 * items;
            _px2 += pixels2 * items;
            _items += items;
        }

        public void AddTo(IDictionary<string, double> metrics)
        {
            if (_items > 0)
            {
                metrics["steady_deg"] = Math.Sqrt(_deg2 / _items);
                metrics["steady_px"] = Math.Sqrt(_px2 / _items);
            }
        }
    }
}
