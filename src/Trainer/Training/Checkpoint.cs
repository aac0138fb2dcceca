using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// A saved model: a folder with model.json (the architecture, <see cref="ModelConfig"/>) and
/// weights.dat (TorchSharp's state format). Written to a temporary folder and renamed into place,
/// so a crash never leaves a half-written checkpoint under the final name.
/// </summary>
internal static class Checkpoint
{
    public const string ConfigFile = "model.json";
    public const string WeightsFile = "weights.dat";

    /// <param name="extra">Writes more files (optimizer and run state) into the temporary folder.</param>
    public static void Save(MultiHeadNet net, string dir, Action<string>? extra = null) =>
        AtomicDirectory.Write(dir, temp =>
        {
            File.WriteAllText(Path.Combine(temp, ConfigFile), net.Config.ToJson());
            net.save(Path.Combine(temp, WeightsFile));
            extra?.Invoke(temp);
            return 0;
        });

    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">model.json or weights.dat missing.</exception>
    /// <exception cref="InvalidDataException">Either file is unreadable; the message names it.</exception>
    public static MultiHeadNet Load(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"checkpoint folder not found: {dir}");
        }

        string configPath = Path.Combine(dir, ConfigFile), weightsPath = Path.Combine(dir, WeightsFile);
        foreach (string f in new[] { configPath, weightsPath })
        {
            if (!File.Exists(f))
            {
                throw new FileNotFoundException($"checkpoint file missing: {f}", f);
            }
        }

        ModelConfig config = ModelConfig.FromJson(File.ReadAllText(configPath), configPath);
        var net = new MultiHeadNet(config);
        try
        {
            net.load(weightsPath, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            net.Dispose();
            throw new InvalidDataException($"{weightsPath}: cannot load weights for {config.Backbone} with heads {string.Join(",", config.Heads.ConvertAll(h => h.OutputName))}: {e.Message}", e);
        }

        return net;
    }

    /// <summary>Loads the weights of the checkpoint in <paramref name="dir"/> (a checkpoint folder, or
    /// a run folder holding one) into <paramref name="net"/>: fastai's <c>learn.load</c>, to
    /// fine-tune a trained model further. The backbone and input size must be the same; each head
    /// the checkpoint has in the same form (name, kind and options) is loaded, any other keeps its
    /// start (a new head, or one built another way). Returns what it did, for the log.</summary>
    /// <exception cref="ArgumentException">The checkpoint holds another backbone or input size.</exception>
    public static string LoadWeightsInto(MultiHeadNet net, string dir)
    {
        if (!File.Exists(Path.Combine(dir, ConfigFile)) && Directory.Exists(Path.Combine(dir, TrainRun.CheckpointDir)))
        {
            dir = Path.Combine(dir, TrainRun.CheckpointDir);
        }

        using MultiHeadNet saved = Load(dir);
        ModelConfig want = net.Config, have = saved.Config;
        // The guide (ModelConfig.GuideKeypoints) only helps training: a run may start with or without it.
        if ((have with { Name = want.Name, Heads = want.Heads, GuideKeypoints = want.GuideKeypoints }).ToJson() != want.ToJson())
        {
            static string Kept(ModelConfig c) => c.KeepKeypoints ? $", keypoint path kept after stride {c.KeptAfterStride}" : "";
            throw new ArgumentException($"option --init: {dir} holds a {have.Backbone} model of input {have.InputSize} (0: its default) and head sizes {have.TrunkReduced}/{have.TrunkHidden}{Kept(have)}; these options make a {want.Backbone} model of input {want.InputSize} and {want.TrunkReduced}/{want.TrunkHidden}{Kept(want)}: give the same --arch, --size, --keep-keypoints and --keep-from");
        }

        string[] kept = [.. want.Heads.Where(h => have.Heads.Any(s => JsonSerializer.Serialize(s) == JsonSerializer.Serialize(h))).Select(h => h.OutputName)];
        string[] prefixes = ["backbone.", "kept.", "guide.", .. kept.Select(h => $"heads.{h}.")];
        Dictionary<string, Tensor> source = saved.state_dict();
        int copied = 0;
        using (no_grad())
        {
            foreach ((string name, Tensor target) in net.state_dict())
            {
                if (prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) && source.TryGetValue(name, out Tensor? value) && value.shape.SequenceEqual(target.shape))
                {
                    target.copy_(value);
                    copied++;
                }
            }
        }

        string[] fresh = [.. want.Heads.Select(h => h.OutputName).Except(kept)];
        return $"From {dir}: the backbone and heads {(kept.Length == 0 ? "(none)" : string.Join(",", kept))} ({copied} tensors)"
            + (fresh.Length == 0 ? "" : $"; not there in this form, so as built: {string.Join(",", fresh)}");
    }
}
