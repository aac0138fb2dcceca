using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Inference;
using OpenCvSharp;

namespace HeadTracking.Trainer.Training;

/// <summary>Measures an exported model the way the runtime runs it: each image through the
/// runtime's own <see cref="HeadModel"/> (its letterbox, ONNX Runtime, its decoders), scored with
/// the trainer's metrics against labels moved by the same input transform.</summary>
internal static class Evaluator
{
    /// <exception cref="InvalidDataException">The file has no HeadTracker manifest, or its
    /// manifest names an output kind the trainer does not know.</exception>
    public static IReadOnlyDictionary<string, double> Run(string modelPath, IReadOnlyList<DataItem> items, int batchSize, int threads, double threshold = 0.5)
    {
        using var model = new ExportedModel(modelPath, threads);
        var metrics = new Objective.Metrics(model.Config, threshold);
        foreach ((Batch batch, float[][] outputs) in model.Predict(items, batchSize))
        {
            metrics.Add(outputs, batch);
        }

        return metrics.Values;
    }
}

/// <summary>An exported model in the runtime's <see cref="HeadModel"/>, with the trainer's view of
/// its heads (rebuilt from its manifest) and its labels prepared as validation batches are.</summary>
internal sealed class ExportedModel : IDisposable
{
    private readonly HeadModel _model;
    private readonly HeadOutputs _decoded = new();

    /// <exception cref="InvalidDataException">Not a model ONNX Runtime loads, no HeadTracker
    /// manifest, a manifest the runtime would refuse, or an output kind the trainer does not know;
    /// the message names the file.</exception>
    public ExportedModel(string modelPath, int threads)
    {
        _model = new HeadModel(modelPath, threads);
        try
        {
            Manifest = _model.Manifest;
            Config = new ModelConfig
            {
                Heads = [.. Manifest.Outputs.Select(o => new HeadConfig
                {
                    Kind = OutputKinds.HeadOf(o.Kind) ?? throw new InvalidDataException($"{modelPath}: output '{o.Name}' has kind '{o.Kind}', which eval does not measure"),
                    Name = o.Name,
                    KeypointNames = o.KeypointNames,
                    ClassNames = o.ClassNames,
                    ValueNames = o.ValueNames,
                    MultiLabel = o.MultiLabel ?? false,
                    Frame = o.Kind == OutputKinds.Pose ? o.Frame ?? "camera" : null,
                })],
            };
            if (Manifest.Input.Layout != "NCHW" || Manifest.Input.Shape[2] != Manifest.Input.Shape[3])
            {
                throw new InvalidDataException($"{modelPath}: eval measures square NCHW models (the trainer's); this one's input is {Manifest.Input.Layout} [{string.Join(",", Manifest.Input.Shape)}]");
            }

            Size = (int)Manifest.Input.Shape[2];
            Preprocessing = new Preprocessing(Size, Size, Manifest.Input.Scale, Manifest.Input.Mean, Manifest.Input.Std);
        }
        catch
        {
            _model.Dispose();
            throw;
        }
    }

    public ModelManifest Manifest { get; }

    /// <summary>The heads as the trainer describes them (class names, codes, value names).</summary>
    public ModelConfig Config { get; }

    public Preprocessing Preprocessing { get; }

    public int Size { get; }

    /// <summary>The class head's names, or none.</summary>
    public string[] Classes => Manifest.Outputs.FirstOrDefault(o => o.Kind == OutputKinds.Class)?.ClassNames ?? [];

    /// <summary>Each batch of <paramref name="items"/> (labels letterboxed, not augmented, in order)
    /// with every head's output as a flat array, in head order: each image decoded once and run by the runtime.</summary>
    /// <exception cref="InvalidDataException">The runtime's decoded head centre or keypoints are not
    /// where the trainer's reading of the same outputs puts them (train/serve drift).</exception>
    public IEnumerable<(Batch Batch, float[][] Outputs)> Predict(IReadOnlyList<DataItem> items, int batchSize)
    {
        int heads = Manifest.Outputs.Count;
        for (int start = 0; start < items.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, items.Count - start);
            var images = new Mat[count];
            var outputs = new float[heads][];
            Batch batch;
            try
            {
                for (int i = 0; i < count; i++)
                {
                    DataItem item = items[start + i];
                    images[i] = item.Load();
                    _model.Run(images[i], _decoded);
                    for (int h = 0; h < heads; h++)
                    {
                        ReadOnlySpan<float> one = _model.LastOutput(h);
                        outputs[h] ??= new float[one.Length * count];
                        one.CopyTo(outputs[h].AsSpan(i * one.Length));
                    }

                    CheckDecoded(item, images[i].Width, images[i].Height);
                }

                // The labels, letterboxed as validation batches are, from the images decoded above.
                List<DataItem> decoded = [.. images.Select((image, i) => items[start + i] with { Pixels = image.Clone })];
                batch = new Batcher(decoded, Config, Preprocessing, Classes).Build([.. Enumerable.Range(0, count)], AugmentOptions.None, seed: 0);
            }
            finally
            {
                foreach (Mat? image in images)
                {
                    image?.Dispose();
                }
            }

            yield return (batch, outputs);
        }
    }

    /// <summary>The runtime's decoders against the contract: a point head's value v in [-1, 1] is
    /// at input pixel (v + 1) / 2 * size, and frame = (input - pad) / scale.</summary>
    private void CheckDecoded(DataItem item, int width, int height)
    {
        InputTransform.Fitted fit = InputTransform.Fit(width, height, Size, Size);
        for (int h = 0; h < Manifest.Outputs.Count; h++)
        {
            ManifestOutput o = Manifest.Outputs[h];
            if (o.Kind is not (OutputKinds.Point or OutputKinds.Keypoints))
            {
                continue;
            }

            ReadOnlySpan<float> raw = _model.LastOutput(h);
            ReadOnlySpan<float> decoded = o.Kind == OutputKinds.Point ? [_decoded.CenterX, _decoded.CenterY] : _decoded.Keypoints;
            for (int k = 0; k + 1 < raw.Length && k + 1 < decoded.Length; k += 2)
            {
                double x = ((((raw[k] + 1) / 2 * Size) - fit.PadX) / fit.ScaleX) - decoded[k];
                double y = ((((raw[k + 1] + 1) / 2 * Size) - fit.PadY) / fit.ScaleY) - decoded[k + 1];
                if (Math.Abs(x) > 0.01 || Math.Abs(y) > 0.01)
                {
                    throw new InvalidDataException($"{item.ImagePath ?? "an image in memory"}: the runtime decodes output '{o.Name}' value {k / 2} {x:F3},{y:F3} px away from the trainer's reading of it");
                }
            }
        }
    }

    public void Dispose() => _model.Dispose();
}
