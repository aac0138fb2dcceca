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

/// <summary><c>mask</c>: a head-or-not mask (one logit per pixel), or a segmentation (one logit per
/// class per pixel) when the head has class names.</summary>
internal sealed class MaskKind : HeadKind
{
    public override string Name => OutputKinds.Mask;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => new MaskHead(h.OutputName, backbone, h.Width ?? 32, h.Stride, h.ClassNames);

    /// <summary>A head-or-not mask as 0/1; class codes as they are, -1 where not labelled (codes
    /// beyond the classes, and every pixel of a sample without a mask).</summary>
    public override unsafe void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        int s = b.Size, plane = s * s, classes = layout.MaskClasses;
        if (sample.Mask is { } mask)
        {
            byte* m = (byte*)mask.DataPointer;
            long step = mask.Step();
            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    byte v = m[(y * step) + x];
                    b.Mask[(i * plane) + (y * s) + x] = classes > 0 ? (v < classes ? v : -1) : v > 127 ? 1 : 0;
                }
            }

            b.MaskWeight[i] = 1;
        }
        else if (classes > 0)
        {
            Array.Fill(b.Mask, -1f, i * plane, plane);
        }
    }

    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) => head.ClassNames is { Length: > 1 }
        ? SegmentationLoss(o, t.Mask)
        : Weighted(functional.binary_cross_entropy_with_logits(o, t.Mask, reduction: Reduction.None).mean([1, 2, 3]), t.MaskW);

    public override Meter NewMeter(HeadConfig head, double threshold) =>
        head.ClassNames is { Length: > 0 } codes ? new SegmentationMeter(codes) : new MaskMeter();

    /// <summary>Softmax cross-entropy over the classes, averaged over the labelled pixels
    /// (code -1 is not labelled; a batch with none gives 0, not NaN).</summary>
    private static Tensor SegmentationLoss(Tensor logits, Tensor codes)
    {
        Tensor target = codes.squeeze(1).to_type(ScalarType.Int64);
        Tensor perPixel = functional.cross_entropy(logits, target, ignore_index: -1, reduction: Reduction.None);
        return perPixel.sum() / target.ge(0).sum().clamp_min(1);
    }

    /// <summary>IoU of the pixels with a positive logit against the labelled mask.</summary>
    private sealed class MaskMeter : Meter
    {
        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.MaskWeight[i] <= 0)
            {
                return;
            }

            int plane = b.Size * b.Size;
            double inter = 0, union = 0;
            for (int p = 0; p < plane; p++)
            {
                bool predicted = o[(i * plane) + p] > 0, truth = b.Mask[(i * plane) + p] > 0.5f;
                inter += predicted && truth ? 1 : 0;
                union += predicted || truth ? 1 : 0;
            }

            metrics.Add("mask_iou", union == 0 ? 1 : inter / union);
        }
    }

    /// <summary>Per pixel the class of the largest logit against the labelled code: pixel accuracy,
    /// IoU per class and their mean over the classes that occur (as CamVid reports it).</summary>
    private sealed class SegmentationMeter(string[] codes) : Meter
    {
        private readonly double[] _inter = new double[codes.Length], _union = new double[codes.Length];
        private double _correct, _pixels;

        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.MaskWeight[i] <= 0)
            {
                return;
            }

            int plane = b.Size * b.Size, n = codes.Length;
            int baseIndex = i * n * plane;
            for (int p = 0; p < plane; p++)
            {
                int truth = (int)b.Mask[(i * plane) + p];
                int predicted = 0;
                float best = o[baseIndex + p];
                for (int c = 1; c < n; c++)
                {
                    float v = o[baseIndex + (c * plane) + p];
                    if (v > best)
                    {
                        best = v;
                        predicted = c;
                    }
                }

                if (truth < 0)
                {
                    continue;
                }

                _pixels++;
                if (predicted == truth)
                {
                    _correct++;
                    _inter[truth]++;
                    _union[truth]++;
                }
                else
                {
                    _union[truth]++;
                    _union[predicted]++;
                }
            }
        }

        public override void Finish(Dictionary<string, double> values)
        {
            if (_pixels <= 0)
            {
                return;
            }

            values["pixel_accuracy"] = _correct / _pixels;
            values["mean_iou"] = Enumerable.Range(0, codes.Length).Where(c => _union[c] > 0).Select(c => _inter[c] / _union[c]).DefaultIfEmpty(0).Average();
            for (int c = 0; c < codes.Length; c++)
            {
                if (_union[c] > 0)
                {
                    values[$"iou_{codes[c]}"] = _inter[c] / _union[c];
                }
            }
        }
    }
}
