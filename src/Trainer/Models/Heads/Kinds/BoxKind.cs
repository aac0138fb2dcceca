using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary><c>box</c>: the face box's corners in [0, 1] over the input, and a face-or-not score logit.</summary>
internal sealed class BoxKind : HeadKind
{
    public override string Name => OutputKinds.Box;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => new BoxHead(h.OutputName, backbone, trunk);

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        if (sample.Label.Box is { } box)
        {
            for (int j = 0; j < 4; j++)
            {
                b.Box[(i * 4) + j] = (float)Math.Clamp(box[j] / b.Size, 0, 1);
            }

            b.BoxWeight[i] = 1;
        }
    }

    /// <summary>Corners where a face is labelled; the score learns face (1) or none (0) on every sample.</summary>
    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) =>
        Weighted(functional.smooth_l1_loss(o[.., ..4], t.Box, reduction: Reduction.None, beta: 0.05).mean([1]), t.BoxW)
        + functional.binary_cross_entropy_with_logits(o[.., 4], t.BoxW);

    public override Meter NewMeter(HeadConfig head, double threshold) => new BoxMeter();

    internal static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ix = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]));
        double iy = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        double inter = ix * iy;
        double union = (Math.Max(0, a[2] - a[0]) * Math.Max(0, a[3] - a[1])) + ((b[2] - b[0]) * (b[3] - b[1])) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// <summary>Mean IoU, and the median over the pass.</summary>
    private sealed class BoxMeter : Meter
    {
        private readonly List<double> _ious = [];

        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.BoxWeight[i] > 0)
            {
                double iou = Iou(o.AsSpan(i * 5, 4), b.Box.AsSpan(i * 4, 4));
                metrics.Add("box_iou", iou);
                _ious.Add(iou);
            }
        }

        public override void Finish(Dictionary<string, double> values)
        {
            if (_ious.Count > 0)
            {
                double[] sorted = [.. _ious.Order()];
                int mid = sorted.Length / 2;
                values["box_iou_median"] = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
            }
        }
    }
}
