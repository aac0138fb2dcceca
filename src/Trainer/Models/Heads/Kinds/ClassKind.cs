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

/// <summary><c>class</c>: class logits, one label per image (softmax) or several (a sigmoid per class).</summary>
internal sealed class ClassKind : HeadKind
{
    public override string Name => OutputKinds.Class;

    public override Head Create(HeadConfig h, Backbone backbone, TrunkSize trunk) => new ClassHead(h.OutputName, backbone, h.ClassNames!, h.MultiLabel);

    public override void Fill(Batch b, int i, Augmented sample, BatchLayout layout)
    {
        string[] names = layout.Classes;
        if (sample.Label.Classes is { Length: > 0 } classes && names.Length > 0)
        {
            foreach (string c in classes)
            {
                int index = Array.IndexOf(names, c);
                if (index >= 0)
                {
                    b.ClassTargets[(i * names.Length) + index] = 1;
                }
            }

            b.ClassWeight[i] = 1;
        }
    }

    public override Tensor Loss(HeadConfig head, Tensor o, Objective.Targets t) => head.MultiLabel
        ? Weighted(functional.binary_cross_entropy_with_logits(o, t.Classes, reduction: Reduction.None).mean([1]), t.ClassW)
        : Weighted(-(functional.log_softmax(o, 1) * t.Classes).sum([1]), t.ClassW);

    public override Meter NewMeter(HeadConfig head, double threshold) =>
        head.MultiLabel ? new MultiLabelMeter(head.ClassNames!, threshold) : new SingleLabelMeter();

    /// <summary>Error rate (and accuracy) of the largest logit.</summary>
    private sealed class SingleLabelMeter : Meter
    {
        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.ClassWeight[i] > 0)
            {
                int c = b.ClassTargets.Length / b.Count, predicted = 0, truth = 0;
                for (int j = 1; j < c; j++)
                {
                    predicted = o[(i * c) + j] > o[(i * c) + predicted] ? j : predicted;
                    truth = b.ClassTargets[(i * c) + j] > b.ClassTargets[(i * c) + truth] ? j : truth;
                }

                metrics.Add("error_rate", predicted == truth ? 0 : 1);
            }
        }

        public override void Finish(Dictionary<string, double> values)
        {
            if (values.TryGetValue("error_rate", out double error))
            {
                values["accuracy"] = 1 - error;
            }
        }
    }

    /// <summary>Per-label accuracy at the threshold, F1 per label and their mean (macro F1).</summary>
    private sealed class MultiLabelMeter(string[] labels, double threshold) : Meter
    {
        private readonly double _logitThreshold = Math.Log(threshold / (1 - threshold));
        private readonly double[] _tp = new double[labels.Length], _fp = new double[labels.Length], _fn = new double[labels.Length];
        private bool _any;

        public override void Add(float[] o, Batch b, int i, Objective.Metrics metrics)
        {
            if (b.ClassWeight[i] <= 0)
            {
                return;
            }

            int c = b.ClassTargets.Length / b.Count;
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

            metrics.Add("accuracy_multi", correct / c);
            _any = true;
        }

        public override void Finish(Dictionary<string, double> values)
        {
            if (!_any)
            {
                return;
            }

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
    }
}
