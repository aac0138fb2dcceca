using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Models;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// The multi-task loss (a weighted sum of one loss per head, each averaged over the samples that
/// carry its label) and the metrics per head, accumulated over a validation pass.
/// </summary>
internal sealed class Objective
{
    private readonly ModelConfig _config;
    private readonly Dictionary<string, double> _weights;
    private readonly float[] _valueStd;

    /// <param name="weights">Loss weight per head kind; missing kinds weigh 1.</param>
    public Objective(ModelConfig config, IReadOnlyDictionary<string, double>? weights = null)
    {
        var kinds = config.Heads.GroupBy(h => h.Kind).FirstOrDefault(g => g.Count() > 1);
        if (kinds != null)
        {
            throw new ArgumentException($"heads: training supports one head of each kind; '{kinds.Key}' appears {kinds.Count()} times");
        }

        _config = config;
        _weights = config.Heads.ToDictionary(h => h.Kind, h => weights?.GetValueOrDefault(h.Kind, 1.0) ?? 1.0);
        _valueStd = config.Heads.FirstOrDefault(h => h.Kind == "value") is { } v
            ? v.ValueStd is { } sd && sd.Length == v.ValueNames!.Length ? [.. sd.Select(x => x > 0 ? x : 1f)] : [.. Enumerable.Repeat(1f, v.ValueNames!.Length)]
            : [];
    }

    /// <summary>Batch arrays as tensors (created in the caller's dispose scope).</summary>
    public sealed record Targets(Tensor Center, Tensor CenterW, Tensor Keypoints, Tensor KeypointW, Tensor Box, Tensor BoxW,
        Tensor Rotation, Tensor RayRotation, Tensor PoseW, Tensor Mask, Tensor MaskW, Tensor Classes, Tensor ClassW, Tensor Values, Tensor ValueW);

    public static Targets ToTensors(Batch b)
    {
        int n = b.Count, s = b.Size, k = b.KeypointWeight.Length / n, c = b.ClassTargets.Length / n, v = b.Values.Length / n;
        return new Targets(
            tensor(b.Center, [n, 2]), tensor(b.CenterWeight, [n]),
            tensor(b.Keypoints, [n, k, 2]), tensor(b.KeypointWeight, [n, k]),
            tensor(b.Box, [n, 4]), tensor(b.BoxWeight, [n]),
            tensor(b.Rotation, [n, 3, 3]), tensor(b.RayRotation, [n, 3, 3]), tensor(b.PoseWeight, [n]),
            tensor(b.Mask, [n, 1, s, s]), tensor(b.MaskWeight, [n]),
            tensor(b.ClassTargets, [n, c]), tensor(b.ClassWeight, [n]),
            tensor(b.Values, [n, v]), tensor(b.ValueWeight, [n]));
    }

    /// <summary>The total loss and each head's part (as plain numbers for the log).</summary>
    public (Tensor Total, Dictionary<string, double> Parts) Loss(Tensor[] outputs, Targets t)
    {
        Tensor total = zeros(1);
        var parts = new Dictionary<string, double>();
        for (int h = 0; h < _config.Heads.Count; h++)
        {
            HeadConfig head = _config.Heads[h];
            Tensor o = outputs[h];
            Tensor part = head.Kind switch
            {
                "center" => Weighted((o - t.Center).pow(2).mean([1]), t.CenterW),
                "keypoints" => Weighted(((o - t.Keypoints).pow(2).sum([2]) * t.KeypointW).sum([1]) / t.KeypointW.sum([1]).clamp_min(1), t.KeypointW.amax([1])),
                // Corners where a face is labelled; the score learns face (1) or none (0) on every sample.
                "box" => Weighted(functional.smooth_l1_loss(o[.., ..4], t.Box, reduction: Reduction.None, beta: 0.05).mean([1]), t.BoxW)
                    + functional.binary_cross_entropy_with_logits(o[.., 4], t.BoxW),
                "pose" => Weighted((o - (head.Frame == "ray" ? t.RayRotation : t.Rotation)).pow(2).sum([1, 2]), t.PoseW),
                "mask" when head.ClassNames is { Length: > 1 } => SegmentationLoss(o, t.Mask),
                "mask" => Weighted(functional.binary_cross_entropy_with_logits(o, t.Mask, reduction: Reduction.None).mean([1, 2, 3]), t.MaskW),
                // Squared error in standardised units: every value weighs alike, whatever its scale.
                "value" => Weighted(((o - t.Values) / tensor(_valueStd)).pow(2).mean([1]), t.ValueW),
                "class" => head.MultiLabel
                    ? Weighted(functional.binary_cross_entropy_with_logits(o, t.Classes, reduction: Reduction.None).mean([1]), t.ClassW)
                    : Weighted(-(functional.log_softmax(o, 1) * t.Classes).sum([1]), t.ClassW),
                _ => throw new ArgumentException($"no loss for head kind '{head.Kind}'"),
            };
            parts[head.OutputName] = part.item<float>();
            total = total + (part * _weights[head.Kind]);
        }

        return (total.squeeze(), parts);
    }

    /// <summary>Softmax cross-entropy over the classes, averaged over the labelled pixels
    /// (code -1 is not labelled; a batch with none gives 0, not NaN).</summary>
    private static Tensor SegmentationLoss(Tensor logits, Tensor codes)
    {
        Tensor target = codes.squeeze(1).to_type(ScalarType.Int64);
        Tensor perPixel = functional.cross_entropy(logits, target, ignore_index: -1, reduction: Reduction.None);
        return perPixel.sum() / target.ge(0).sum().clamp_min(1);
    }

    /// <summary>Mean of per-sample losses over samples with weight 1.</summary>
    private static Tensor Weighted(Tensor perSample, Tensor weight) => (perSample * weight).sum() / weight.sum().clamp_min(1);

    /// <summary>Accumulates the metrics of each head over batches.</summary>
    public sealed class Metrics
    {
        private readonly ModelConfig _config;
        private readonly Dictionary<string, (double Sum, double Count)> _sums = [];
        private readonly List<double> _boxIous = [];
        private readonly double _logitThreshold;

        // Segmentation: per class, pixels in both, in either; pixels right and labelled.
        private readonly double[] _segInter, _segUnion;
        private double _segCorrect, _segPixels;

        // Multi-label: per class, true positives, false positives, false negatives.
        private readonly double[] _tp, _fp, _fn;

        /// <param name="threshold">Multi-label: the probability above which a label is predicted.</param>
        public Metrics(ModelConfig config, double threshold = 0.5)
        {
            _config = config;
            _logitThreshold = Math.Log(threshold / (1 - threshold));
            int codes = config.Heads.FirstOrDefault(h => h.Kind == "mask")?.ClassNames?.Length ?? 0;
            _segInter = new double[codes];
            _segUnion = new double[codes];
            int labels = config.Heads.FirstOrDefault(h => h.Kind == "class" && h.MultiLabel)?.ClassNames?.Length ?? 0;
            _tp = new double[labels];
            _fp = new double[labels];
            _fn = new double[labels];
        }

        public void Add(Tensor[] outputs, Batch b) => Add(ResultsGrid.Arrays(outputs), b);

        /// <summary>Adds a batch given each head's output as one flat array (ONNX Runtime's, say).</summary>
        public void Add(float[][] outputs, Batch b)
        {
            int n = b.Count, s = b.Size;
            for (int h = 0; h < _config.Heads.Count; h++)
            {
                HeadConfig head = _config.Heads[h];
                float[] o = outputs[h];
                for (int i = 0; i < n; i++)
                {
                    switch (head.Kind)
                    {
                        case "center" when b.CenterWeight[i] > 0:
                            double dx = o[i * 2] - b.Center[i * 2], dy = o[(i * 2) + 1] - b.Center[(i * 2) + 1];
                            Add("center_mse", ((dx * dx) + (dy * dy)) / 2);
                            Add("center_px", Math.Sqrt((dx * dx) + (dy * dy)) * s / 2);
                            break;
                        case "keypoints":
                            AddKeypoints(o, b, i);
                            break;
                        case "box" when b.BoxWeight[i] > 0:
                            double iou = Iou(o.AsSpan(i * 5, 4), b.Box.AsSpan(i * 4, 4));
                            Add("box_iou", iou);
                            _boxIous.Add(iou);
                            break;
                        case "pose" when b.PoseWeight[i] > 0:
                            // Scored in the camera's axes, what a user sees: a ray-frame
                            // prediction is turned by the true head centre's ray.
                            (double py, double pp, double pr) = head.Frame == "ray" ? CameraEuler(o.AsSpan(i * 9, 9), b.Ray[i * 2], b.Ray[(i * 2) + 1]) : Rotation.ToEuler(o.AsSpan(i * 9, 9));
                            (double ty, double tp, double tr) = Rotation.ToEuler(b.Rotation.AsSpan(i * 9, 9));
                            Add("yaw_mae", AngleDiff(py, ty));
                            Add("pitch_mae", AngleDiff(pp, tp));
                            Add("roll_mae", AngleDiff(pr, tr));
                            break;
                        case "mask" when b.MaskWeight[i] > 0 && _segInter.Length > 0:
                            AddSegmentation(o, b, i);
                            break;
                        case "mask" when b.MaskWeight[i] > 0:
                            AddMask(o, b, i);
                            break;
                        case "class" when b.ClassWeight[i] > 0:
                            AddClass(o, b, i, head.MultiLabel);
                            break;
                        case "value" when b.ValueWeight[i] > 0:
                            AddValues(o, b, i, head.ValueNames!);
                            break;
                    }
                }
            }
        }

        /// <summary>Each metric's mean, in the config's head order; for boxes also the median IoU.</summary>
        public IReadOnlyDictionary<string, double> Values
        {
            get
            {
                var values = _sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / Math.Max(1, kv.Value.Count));
                if (_boxIous.Count > 0)
                {
                    double[] sorted = [.. _boxIous.Order()];
                    int mid = sorted.Length / 2;
                    values["box_iou_median"] = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
                }

                if (_segPixels > 0)
                {
                    // Mean IoU over the classes that occur (in truth or prediction), as CamVid reports it.
                    string[] codes = _config.Heads.First(h => h.Kind == "mask").ClassNames!;
                    values["pixel_accuracy"] = _segCorrect / _segPixels;
                    values["mean_iou"] = Enumerable.Range(0, codes.Length).Where(c => _segUnion[c] > 0).Select(c => _segInter[c] / _segUnion[c]).DefaultIfEmpty(0).Average();
                    for (int c = 0; c < codes.Length; c++)
                    {
                        if (_segUnion[c] > 0)
                        {
                            values[$"iou_{codes[c]}"] = _segInter[c] / _segUnion[c];
                        }
                    }
                }

                if (_tp.Length > 0 && values.ContainsKey("accuracy_multi"))
                {
                    // F1 per label, and their mean (macro F1) over the labels that occur.
                    string[] labels = _config.Heads.First(h => h.Kind == "class" && h.MultiLabel).ClassNames!;
                    var f1s = new List<double>();
                    for (int c = 0; c < labels.Length; c++)
                    {
                        double denominator = (2 * _tp[c]) + _fp[c] + _fn[c];
                        if (denominator > 0)
                        {
                            values[$"f1_{labels[c]}"] = 2 * _tp[c] / denominator;
                            f1s.Add(2 * _tp[c] / denominator);
                        }
                    }

                    values["f1_macro"] = f1s.DefaultIfEmpty(0).Average();
                }

                if (values.TryGetValue("error_rate", out double error))
                {
                    values["accuracy"] = 1 - error;
                }

                return values;
            }
        }

        private void Add(string name, double value)
        {
            (double sum, double count) = _sums.GetValueOrDefault(name);
            _sums[name] = (sum + value, count + 1);
        }

        /// <summary>Yaw, pitch, roll in the camera's axes of a rotation relative to the ray (x, y).</summary>
        private static (double Yaw, double Pitch, double Roll) CameraEuler(ReadOnlySpan<float> apparent, double x, double y)
        {
            Span<double> a = stackalloc double[9];
            Span<double> camera = stackalloc double[9];
            for (int j = 0; j < 9; j++)
            {
                a[j] = apparent[j];
            }

            Rotation.RayToCamera(a, x, y, camera);
            return Rotation.ToEuler(camera);
        }

        /// <summary>NME: mean distance of labelled keypoints over the inter-ocular distance.</summary>
        private void AddKeypoints(float[] o, Batch b, int i)
        {
            int k = b.KeypointWeight.Length / b.Count;
            int t = i * k * 2;
            double eye = Math.Sqrt(Math.Pow(b.Keypoints[t] - b.Keypoints[t + 2], 2) + Math.Pow(b.Keypoints[t + 1] - b.Keypoints[t + 3], 2));
            if (eye < 1e-3)
            {
                return;
            }

            double sum = 0;
            int count = 0;
            for (int j = 0; j < k; j++)
            {
                if (b.KeypointWeight[(i * k) + j] > 0)
                {
                    sum += Math.Sqrt(Math.Pow(o[t + (j * 2)] - b.Keypoints[t + (j * 2)], 2) + Math.Pow(o[t + (j * 2) + 1] - b.Keypoints[t + (j * 2) + 1], 2));
                    count++;
                }
            }

            if (count > 0)
            {
                Add("keypoint_nme", sum / count / eye);
                Add("keypoint_px", sum / count * b.Size / 2);
            }
        }

        private void AddMask(float[] o, Batch b, int i)
        {
            int plane = b.Size * b.Size;
            double inter = 0, union = 0;
            for (int p = 0; p < plane; p++)
            {
                bool predicted = o[(i * plane) + p] > 0, truth = b.Mask[(i * plane) + p] > 0.5f;
                inter += predicted && truth ? 1 : 0;
                union += predicted || truth ? 1 : 0;
            }

            Add("mask_iou", union == 0 ? 1 : inter / union);
        }

        /// <summary>Per pixel: the class of the largest logit against the labelled code.</summary>
        private void AddSegmentation(float[] o, Batch b, int i)
        {
            int plane = b.Size * b.Size, codes = _segInter.Length;
            int baseIndex = i * codes * plane;
            for (int p = 0; p < plane; p++)
            {
                int truth = (int)b.Mask[(i * plane) + p];
                int predicted = 0;
                float best = o[baseIndex + p];
                for (int c = 1; c < codes; c++)
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

                _segPixels++;
                if (predicted == truth)
                {
                    _segCorrect++;
                    _segInter[truth]++;
                    _segUnion[truth]++;
                }
                else
                {
                    _segUnion[truth]++;
                    _segUnion[predicted]++;
                }
            }
        }

        private void AddValues(float[] o, Batch b, int i, string[] names)
        {
            int v = names.Length;
            double sum = 0;
            bool exact = true; // every value, rounded, is its target: accuracy for counts
            for (int j = 0; j < v; j++)
            {
                float predicted = o[(i * v) + j], target = b.Values[(i * v) + j];
                double error = Math.Abs(predicted - target);
                sum += error;
                exact &= Math.Abs(Math.Round(predicted) - target) < 1e-6;
                if (v > 1)
                {
                    Add($"mae_{names[j]}", error);
                }
            }

            Add("value_mae", sum / v);
            Add("value_exact", exact ? 1 : 0);
        }

        private void AddClass(float[] o, Batch b, int i, bool multiLabel)
        {
            int c = b.ClassTargets.Length / b.Count;
            if (multiLabel)
            {
                double correct = 0;
                for (int j = 0; j < c; j++)
                {
                    bool predicted = o[(i * c) + j] > _logitThreshold, truth = b.ClassTargets[(i * c) + j] > 0.5f;
                    correct += predicted == truth ? 1 : 0;
                    if (j < _tp.Length)
                    {
                        _tp[j] += predicted && truth ? 1 : 0;
                        _fp[j] += predicted && !truth ? 1 : 0;
                        _fn[j] += !predicted && truth ? 1 : 0;
                    }
                }

                Add("accuracy_multi", correct / c);
            }
            else
            {
                int predicted = 0, truth = 0;
                for (int j = 1; j < c; j++)
                {
                    predicted = o[(i * c) + j] > o[(i * c) + predicted] ? j : predicted;
                    truth = b.ClassTargets[(i * c) + j] > b.ClassTargets[(i * c) + truth] ? j : truth;
                }

                Add("error_rate", predicted == truth ? 0 : 1);
            }
        }

        private static double AngleDiff(double a, double b)
        {
            double d = Math.Abs(a - b) % 360;
            return d > 180 ? 360 - d : d;
        }

        internal static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double ix = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]));
            double iy = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
            double inter = ix * iy;
            double union = (Math.Max(0, a[2] - a[0]) * Math.Max(0, a[3] - a[1])) + ((b[2] - b[0]) * (b[3] - b[1])) - inter;
            return union <= 0 ? 0 : inter / union;
        }
    }
}
