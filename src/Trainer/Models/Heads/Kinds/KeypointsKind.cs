using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary><c>keypoints</c>: named points (BlazeFace's six by default), x and y each in [-1, 1] over the input.</summary>
internal sealed class KeypointsKind : HeadKind
{
    public override string Name => OutputKinds.Keypoints;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => h.Locator switch
    {
        "heatmap" => new HeatmapPointHead(h.OutputName, backbone, h.KeypointNames ?? Conventions.KeypointNames, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f, h.Stride ?? 8, h.Width ?? 32),
        "anchor" => new AnchorPointHead(h.OutputName, backbone, h.KeypointNames ?? Conventions.KeypointNames, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f),
        _ => new PointHead(h.OutputName, backbone, h.KeypointNames ?? Conventions.KeypointNames, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f, trunk),
    };

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        int s = b.Size, n = layout.Keypoints;
        if (sample.Label.Keypoints is { } k && k.Length == n)
        {
            for (int j = 0; j < k.Length; j++)
            {
                b.Keypoints[((i * n) + j) * 2] = (float)((2 * k[j][0] / s) - 1);
                b.Keypoints[(((i * n) + j) * 2) + 1] = (float)((2 * k[j][1] / s) - 1);
                bool inside = k[j][0] >= 0 && k[j][1] >= 0 && k[j][0] < s && k[j][1] < s;
                b.KeypointWeight[(i * n) + j] = inside ? 1 : 0;
            }
        }
    }

    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) =>
        Weighted(((o - t.Keypoints).pow(2).sum([2]) * t.KeypointW).sum([1]) / t.KeypointW.sum([1]).clamp_min(1), t.KeypointW.amax([1]));

    public override Meter NewMeter(HeadConfig head, double threshold) => new KeypointMeter([.. head.KeypointNames ?? Conventions.KeypointNames]);

    /// <summary>NME: mean distance of labelled keypoints over the inter-ocular distance (the first two);
    /// and each keypoint's own mean distance in input pixels (<c>keypoint_px.NAME</c>), which says
    /// which points the error comes from.</summary>
    private sealed class KeypointMeter(string[] names) : Meter
    {
        private readonly string[] _perPoint = [.. names.Select(n => $"keypoint_px.{n}")];
        private readonly double[] _sum = new double[names.Length];
        private readonly int[] _count = new int[names.Length];

        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
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
                    sum += Distance(o, b, t + (j * 2));
                    count++;
                }
            }

            if (count == 0)
            {
                return;
            }

            metrics.Add("keypoint_nme", sum / count / eye);
            metrics.Add("keypoint_px", sum / count * b.Size / 2);
            for (int j = 0; j < Math.Min(k, _perPoint.Length); j++)
            {
                if (b.KeypointWeight[(i * k) + j] > 0)
                {
                    _sum[j] += Distance(o, b, t + (j * 2)) * b.Size / 2;
                    _count[j]++;
                }
            }
        }

        /// <summary>Each keypoint's mean distance, in the keypoints' order, where any was labelled.</summary>
        public override void Finish(Dictionary<string, double> values)
        {
            for (int j = 0; j < _perPoint.Length; j++)
            {
                if (_count[j] > 0)
                {
                    values[_perPoint[j]] = _sum[j] / _count[j];
                }
            }
        }

        private static double Distance(float[] o, Batch b, int at) =>
            Math.Sqrt(Math.Pow(o[at] - b.Keypoints[at], 2) + Math.Pow(o[at + 1] - b.Keypoints[at + 1], 2));
    }
}
