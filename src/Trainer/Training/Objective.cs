using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Heads.Kinds;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// The multi-task loss (a weighted sum of one loss per head, each averaged over the samples that
/// carry its label) and the metrics per head, accumulated over a validation pass.
/// </summary>
internal sealed class Objective
{
    private readonly ModelConfig _config;
    private readonly Dictionary<string, double> _weights;
    private readonly Func<HeadConfig, Tensor, Targets, Tensor>[] _losses;

    /// <param name="weights">Loss weight per head kind; missing kinds weigh 1.</param>
    /// <param name="poseLoss">The pose head's loss: "squared" (the squared distance between the
    /// rotation matrices) or "angle" (<see cref="PoseKind.AngleLoss"/>).</param>
    public Objective(ModelConfig config, IReadOnlyDictionary<string, double>? weights = null, string poseLoss = PoseLosses.Squared)
    {
        if (poseLoss is not (PoseLosses.Squared or PoseLosses.Angle))
        {
            throw new ArgumentException($"pose loss: '{poseLoss}' is not {PoseLosses.Squared} or {PoseLosses.Angle}", nameof(poseLoss));
        }

        var kinds = config.Heads.GroupBy(h => h.Kind).FirstOrDefault(g => g.Count() > 1);
        if (kinds != null)
        {
            throw new ArgumentException($"heads: training supports one head of each kind; '{kinds.Key}' appears {kinds.Count()} times");
        }

        _config = config;
        _weights = config.Heads.ToDictionary(h => h.Kind, h => weights?.GetValueOrDefault(h.Kind, 1.0) ?? 1.0);
        _losses = [.. config.Heads.Select(h => h.Kind == OutputKinds.Pose && poseLoss == PoseLosses.Angle
            ? PoseKind.AngleLoss
            : (Func<HeadConfig, Tensor, Targets, Tensor>)HeadKinds.Of(h.Kind).Loss)];
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

    /// <summary>The total loss and each head's part (as plain numbers for the log). Outputs beyond
    /// the config's heads come from <see cref="MultiHeadNet.ForwardWithGuide"/>: the guide's
    /// keypoints, which learn from the keypoint labels with the keypoint head's loss and weight.</summary>
    public (Tensor Total, Dictionary<string, double> Parts) Loss(Tensor[] outputs, Targets t)
    {
        if (outputs.Length != _config.Heads.Count && !(_config.GuideKeypoints && outputs.Length == _config.Heads.Count + 1))
        {
            throw new ArgumentException($"outputs: {outputs.Length} for {_config.Heads.Count} heads{(_config.GuideKeypoints ? " and the keypoint guide" : "")}");
        }

        Tensor total = zeros(1);
        var parts = new Dictionary<string, double>();
        void Add(int h, Tensor output, string name)
        {
            HeadConfig head = _config.Heads[h];
            Tensor part = _losses[h](head, output, t);
            parts[name] = part.item<float>();
            total = total + (part * _weights[head.Kind]);
        }

        for (int h = 0; h < _config.Heads.Count; h++)
        {
            Add(h, outputs[h], _config.Heads[h].OutputName);
        }

        if (outputs.Length > _config.Heads.Count)
        {
            int k = _config.Heads.FindIndex(h => h.Kind == OutputKinds.Keypoints);
            Add(k, outputs[^1], $"{_config.Heads[k].OutputName}.guide");
        }

        return (total.squeeze(), parts);
    }

    /// <summary>Accumulates the metrics of each head over batches: each head kind's meter measures
    /// its head; means are kept here, in the order they first appear.</summary>
    public sealed class Metrics
    {
        private readonly ModelConfig _config;
        private readonly Dictionary<string, (double Sum, double Count)> _sums = [];
        private readonly HeadKind.Meter[] _meters;

        /// <param name="threshold">Multi-label: the probability above which a label is predicted.</param>
        public Metrics(ModelConfig config, double threshold = 0.5)
        {
            _config = config;
            _meters = [.. config.Heads.Select(h => HeadKinds.Of(h.Kind).NewMeter(h, threshold))];
        }

        public void Add(Tensor[] outputs, Batch b) => Add(ResultsGrid.Arrays(outputs), b);

        /// <summary>Adds a batch given each head's output as one flat array (ONNX Runtime's, say).</summary>
        public void Add(float[][] outputs, Batch b)
        {
            for (int h = 0; h < _config.Heads.Count; h++)
            {
                for (int i = 0; i < b.Count; i++)
                {
                    _meters[h].Add(outputs[h], b, i, this);
                }
            }
        }

        /// <summary>Each metric's mean, in the config's head order, then what each head adds
        /// beyond means (the median box IoU, IoU per class, F1 per label, accuracy).</summary>
        public IReadOnlyDictionary<string, double> Values
        {
            get
            {
                var values = _sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / Math.Max(1, kv.Value.Count));
                foreach (HeadKind.Meter meter in _meters)
                {
                    meter.Finish(values);
                }

                return values;
            }
        }

        /// <summary>Adds one sample's value of a metric reported as a mean.</summary>
        internal void Add(string name, double value)
        {
            (double sum, double count) = _sums.GetValueOrDefault(name);
            _sums[name] = (sum + value, count + 1);
        }
    }
}

/// <summary>The pose head's losses (<c>--pose-loss</c>).</summary>
internal static class PoseLosses
{
    public const string Squared = "squared";
    public const string Angle = "angle";
}
