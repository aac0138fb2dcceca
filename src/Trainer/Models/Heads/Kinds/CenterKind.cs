using System;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary><c>center</c>: the head centre, x and y in [-1, 1] over the input (manifest kind "point").</summary>
internal sealed class CenterKind : HeadKind
{
    public override string Name => OutputKinds.CenterHead;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => h.Locator switch
    {
        "heatmap" => new HeatmapPointHead(h.OutputName, backbone, null, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f, h.Stride ?? 8, h.Width ?? 32),
        "anchor" => new AnchorPointHead(h.OutputName, backbone, null, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f),
        _ => new PointHead(h.OutputName, backbone, null, h.YRange?[0] ?? -1f, h.YRange?[1] ?? 1f, trunk),
    };

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        if (sample.Label.CenterNorm is { } cn)
        {
            b.Center[i * 2] = (float)cn[0];
            b.Center[(i * 2) + 1] = (float)cn[1];
            b.CenterWeight[i] = 1;
        }
    }

    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) => Weighted((o - t.Center).pow(2).mean([1]), t.CenterW);

    public override Meter NewMeter(HeadConfig head, double threshold) => new CenterMeter();

    private sealed class CenterMeter : Meter
    {
        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.CenterWeight[i] > 0)
            {
                double dx = o[i * 2] - b.Center[i * 2], dy = o[(i * 2) + 1] - b.Center[(i * 2) + 1];
                metrics.Add("center_mse", ((dx * dx) + (dy * dy)) / 2);
                metrics.Add("center_px", Math.Sqrt((dx * dx) + (dy * dy)) * b.Size / 2);
            }
        }
    }
}
