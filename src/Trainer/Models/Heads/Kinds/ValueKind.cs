using System;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary><c>value</c>: continuous values in their own units (a regression; counts by a density map).</summary>
internal sealed class ValueKind : HeadKind
{
    public override string Name => OutputKinds.Value;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) =>
        new ValueHead(h.OutputName, backbone, h.ValueNames!, h.ValueMean, h.ValueStd, h.YRange, h.Locator == "density", h.Width);

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        int n = layout.Values;
        if (sample.Label.Values is { } values && values.Length == n && n > 0)
        {
            for (int j = 0; j < n; j++)
            {
                b.Values[(i * n) + j] = (float)values[j];
            }

            b.ValueWeight[i] = 1;
        }
    }

    /// <summary>Squared error in standardised units: every value weighs alike, whatever its scale.</summary>
    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t)
    {
        float[] std = head.ValueStd is { } sd && sd.Length == head.ValueNames!.Length
            ? [.. sd.Select(x => x > 0 ? x : 1f)]
            : [.. Enumerable.Repeat(1f, head.ValueNames!.Length)];
        return Weighted(((o - t.Values) / tensor(std)).pow(2).mean([1]), t.ValueW);
    }

    public override Meter NewMeter(HeadConfig head, double threshold) => new ValueMeter(head.ValueNames!);

    /// <summary>Mean absolute error (per value too when there are several), and the share of
    /// samples whose every value rounds to its target (accuracy, for counts).</summary>
    private sealed class ValueMeter(string[] names) : Meter
    {
        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.ValueWeight[i] <= 0)
            {
                return;
            }

            int v = names.Length;
            double sum = 0;
            bool exact = true;
            for (int j = 0; j < v; j++)
            {
                float predicted = o[(i * v) + j], target = b.Values[(i * v) + j];
                double error = Math.Abs(predicted - target);
                sum += error;
                exact &= Math.Abs(Math.Round(predicted) - target) < 1e-6;
                if (v > 1)
                {
                    metrics.Add($"mae_{names[j]}", error);
                }
            }

            metrics.Add("value_mae", sum / v);
            metrics.Add("value_exact", exact ? 1 : 0);
        }
    }
}
