using System.Collections.Generic;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary>
/// One kind of head from end to end on the trainer's side: the module it builds (which describes
/// its output for the manifest), the targets it reads from a label, its loss, and its metrics
/// (reading its outputs as the runtime decodes them: <see cref="InputTransform"/>). Found by name in
/// <see cref="HeadKinds"/>; adding a kind is a class here and its registration there.
/// </summary>
internal abstract class HeadKind
{
    /// <summary>The name <c>--heads</c> takes (and <see cref="HeadConfig.Kind"/> holds).</summary>
    public abstract string Name { get; }

    /// <summary>The manifest kind of its output.</summary>
    public string OutputKind => OutputKinds.OfHead(Name);

    /// <summary>The module of a head of this kind on <paramref name="backbone"/>.</summary>
    public abstract Head Create(HeadConfig head, Backbone backbone, TrunkSize trunk);

    /// <summary>Writes sample <paramref name="i"/>'s targets and weights of this kind into the
    /// batch, from its (augmented) label; a label without them leaves weight 0.</summary>
    public abstract void Fill(Batch b, int i, Augmented sample, BatchLayout layout);

    /// <summary>The loss of a batch, averaged over the samples that carry this kind's label.</summary>
    public abstract Tensor Loss(HeadConfig head, Tensor output, Objective.Targets t);

    /// <summary>A fresh accumulator of this kind's metrics over a validation pass.</summary>
    public abstract Meter NewMeter(HeadConfig head, double threshold);

    /// <summary>Mean of per-sample losses over samples with weight 1.</summary>
    protected static Tensor Weighted(Tensor perSample, Tensor weight) => (perSample * weight).sum() / weight.sum().clamp_min(1);

    /// <summary>Accumulates one head's metrics: means through <see cref="Objective.Metrics.Add"/>, and
    /// whatever is not a mean (medians, IoU per class, F1) in <see cref="Finish"/>.</summary>
    internal abstract class Meter
    {
        /// <summary>Adds sample <paramref name="i"/> of the batch, given the head's flat output.</summary>
        public abstract void Add(float[] output, Batch b, int i, Objective.Metrics metrics);

        /// <summary>Adds the metrics the meter keeps itself (not means of one value a sample, or
        /// means it wants in its own order) to <paramref name="values"/>.</summary>
        public virtual void Finish(Dictionary<string, double> values)
        {
        }
    }
}

/// <summary>What the targets of a batch are laid out for: the model's keypoints, classes, mask
/// classes (0: a head-or-not mask) and values.</summary>
internal sealed record BatchLayout(int Keypoints, string[] Classes, int MaskClasses, int Values);
