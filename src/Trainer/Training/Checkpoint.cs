using System;
using System.IO;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;

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
}
